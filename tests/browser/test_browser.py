"""A participant in a real Chromium: sign up, download the protocol, submit predictions, watch, find the rank.

The site runs on a live server; a worker thread in this process evaluates
queued submissions with the real job code, so the submission page's status
polling is exercised while the job runs. Screenshots of the pages are
saved under ``test-output/screenshots/``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from site_helpers import finished_submission
from toonnet_outputs import seeded_scores
from toonbench_site.celery import app as celery_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                "--window-size=1360,1000"]
WAIT_S = 180


def ensure_chromium() -> None:
    """Install Debian's chromium if missing; skip (with the reason) only if that fails."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    script = REPO_ROOT / "scripts" / "services" / "browser.sh"
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"chromium could not be installed with {script}: {result.stderr.strip()[-300:]}")


@pytest.fixture
def browser(tmp_path):  # type: ignore[no-untyped-def]
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture
def worker(site):  # type: ignore[no-untyped-def]
    """An in-process worker: evaluates each queued submission with the real job code."""
    from django.db import connection

    from jobs import evaluation
    from submissions.models import Status, Submission

    previous_broker = celery_app.conf.broker_url
    celery_app.conf.broker_url = "memory://"  # the site's queue message stays in this process
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.is_set():
                for pk in Submission.objects.filter(status=Status.QUEUED).values_list("pk", flat=True):
                    time.sleep(2)  # long enough for the page to show the job before it ends
                    evaluation.evaluate(pk, worker="browser-test-worker")
                stop.wait(0.3)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield thread
    stop.set()
    thread.join(timeout=30)
    celery_app.conf.broker_url = previous_broker


def wait_for_download(folder: Path) -> Path:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        done = [path for path in folder.glob("*.zip")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no bundle downloaded into {folder} within {WAIT_S} s")


def nearest_mean_scores(bundle: Path) -> bytes:
    """A small real model from the bundle alone: per-class mean image, test rows scored by closeness."""
    with zipfile.ZipFile(bundle) as archive:
        records = [json.loads(line) for line in archive.read("toonnet/manifest.public.jsonl").splitlines()]
        classes = json.loads(archive.read("toonnet/container_manifest.json"))["classes"]

        def pixels(record: dict) -> np.ndarray:
            with Image.open(io.BytesIO(archive.read(f"toonnet/{record['path']}"))) as image:
                return np.asarray(image.convert("RGB").resize((16, 16)), dtype=np.float32).ravel() / 255

        train = [record for record in records if record["split"] == "train"]
        test = sorted((record for record in records if record["split"] == "test"), key=lambda r: r["id"])
        means = np.stack([np.mean([pixels(r) for r in train if r["label"] == name], axis=0) for name in classes])
        features = np.stack([pixels(record) for record in test])
    distances = ((features[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    buffer = io.BytesIO()
    np.save(buffer, (-distances).astype(np.float32))
    return buffer.getvalue()


def save_page(driver, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Screenshot of the whole page (the window is resized to the document's height first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1360, min(max(int(height) + 40, 800), 4000))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_a_participant_signs_up_submits_and_finds_the_result_ranked(
    browser, live_server, toonnet, alice, toonnet_built, worker, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    for seed, method in ((41, "Colour histogram baseline"), (42, "Random forest"), (41, "Histogram, re-run")):
        finished_submission(alice, toonnet, toonnet_built, scores=seeded_scores(toonnet_built, seed), seed=seed,
                            method=method, is_baseline=method.startswith("Colour"))
    wait = WebDriverWait(browser, WAIT_S)

    browser.get(f"{live_server.url}/accounts/signup/")
    browser.find_element(By.NAME, "username").send_keys("carol")
    browser.find_element(By.NAME, "email").send_keys("carol@example.org")
    browser.find_element(By.NAME, "password1").send_keys("a long pass phrase 42")
    browser.find_element(By.NAME, "password2").send_keys("a long pass phrase 42")
    browser.find_element(By.CSS_SELECTOR, "#signup-form button[type=submit]").click()
    wait.until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".messages"), "Welcome, carol"))

    browser.get(f"{live_server.url}/benchmarks/toonnet/")
    browser.find_element(By.ID, "download-bundle").click()
    bundle = wait_for_download(browser.downloads)
    with zipfile.ZipFile(bundle) as archive:
        assert json.loads(archive.read("toonnet/protocol.json"))["protocol_hash"] == toonnet_built.protocol_hash

    predictions = tmp_path / "predictions.zip"
    with zipfile.ZipFile(predictions, "w") as archive:
        archive.writestr("output/scores.npy", nearest_mean_scores(bundle))
    browser.get(f"{live_server.url}/submit/?benchmark=toonnet")
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=predictions]").click()
    browser.find_element(By.NAME, "artefact").send_keys(str(predictions))
    browser.find_element(By.NAME, "method_name").send_keys("Nearest class mean")
    browser.find_element(By.NAME, "paper_url").send_keys("https://example.org/nearest-mean")
    assert not browser.find_element(By.NAME, "artefact").find_element(By.XPATH, "..").get_attribute("hidden")
    save_page(browser, "submit")
    browser.find_element(By.CSS_SELECTOR, "#submit-form button[type=submit]").click()

    status = wait.until(ready.presence_of_element_located((By.ID, "status")))
    assert status.text in ("Queued", "Running", "Scoring", "Finished")
    submission_url = browser.current_url
    wait.until(ready.text_to_be_present_in_element((By.ID, "status"), "Finished"))
    wait.until(ready.presence_of_element_located((By.ID, "metrics")))
    # The owner sees per-class rates; the confusion figure of the hidden split is staff-only.
    per_class = wait.until(ready.presence_of_element_located((By.ID, "per-class")))
    assert toonnet_built.spec.classes[0] in per_class.text
    assert not browser.find_elements(By.CSS_SELECTOR, ".figures img")
    metrics_text = browser.find_element(By.ID, "metrics").text
    assert "top1_error" in metrics_text and "[" in metrics_text
    save_page(browser, "submission")

    from submissions.models import Submission

    ours = Submission.objects.get(method_name="Nearest class mean")
    assert submission_url.endswith(f"/submissions/{ours.pk}/") and ours.status == "finished"
    browser.get(f"{live_server.url}/benchmarks/toonnet/")
    row = browser.find_element(By.XPATH, "//table[@id='leaderboard']//tr[.//a[text()='Nearest class mean']]")
    top1 = ours.result.metrics["top1_error"]
    low, high = ours.result.ci95["top1_error"]
    assert f"{top1:.3f}" in row.text and f"[{low:.3f}, {high:.3f}]" in row.text
    ranks = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#leaderboard td.rank")]
    assert len(ranks) == 3 and "=" in "".join(ranks)  # alice's two entries are one row: her team's best
    save_page(browser, "leaderboard")
    browser.get(f"{live_server.url}/")
    save_page(browser, "home")
    assert os.path.getsize(SCREENSHOTS / "leaderboard.png") > 10_000


def sign_in(browser, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    """Log in through the login page and wait until it has let the user through."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys("correct horse battery")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda driver: "/accounts/login/" not in driver.current_url)


def test_a_team_a_hidden_phase_and_the_host_desk_as_their_users_see_them(
    browser, live_server, toonnet, alice, bob, toonnet_built, django_user_model  # type: ignore[no-untyped-def]
) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    from benchmarks.models import Phase
    from teams.models import Invitation

    wait = WebDriverWait(browser, WAIT_S)
    now = timezone.now()
    final = Phase.objects.create(benchmark=toonnet, slug="final", title="Final test", split="test",
                                 opens=now - timedelta(days=1), closes=now + timedelta(days=7), submissions_total=3,
                                 leaderboard="hidden_until_close")
    entry = finished_submission(alice, toonnet, toonnet_built, scores=seeded_scores(toonnet_built, 42), seed=42,
                                method="Random forest")
    type(entry).objects.filter(pk=entry.pk).update(phase=final)

    sign_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/team/")
    browser.find_element(By.NAME, "name").send_keys("red-pandas")
    browser.find_element(By.CSS_SELECTOR, "form[action='/team/create/'] button[type=submit]").click()
    wait.until(ready.text_to_be_present_in_element((By.ID, "members"), "alice"))
    browser.find_element(By.NAME, "username").send_keys("bob")
    browser.find_element(By.CSS_SELECTOR, "form[action='/team/invite/'] button[type=submit]").click()
    wait.until(ready.text_to_be_present_in_element((By.ID, "sent"), "bob"))
    assert Invitation.objects.get(invitee=bob).team.name == "red-pandas"
    save_page(browser, "team")

    browser.get(f"{live_server.url}/benchmarks/toonnet/?phase=final")
    assert "leaderboard is hidden until the phase closes" in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.XPATH, "//table[@id='leaderboard']//a[text()='Random forest']")
    save_page(browser, "phase-hidden")

    django_user_model.objects.create_user("hostess", "hostess@example.org", "correct horse battery", is_staff=True)
    browser.delete_all_cookies()
    sign_in(browser, live_server, "hostess")
    browser.get(f"{live_server.url}/benchmarks/toonnet/hosting/")
    assert "Hosting" in browser.find_element(By.TAG_NAME, "h1").text
    save_page(browser, "host-desk")
    browser.get(f"{live_server.url}/benchmarks/toonnet/?phase=final")
    assert browser.find_elements(By.XPATH, "//table[@id='leaderboard']//a[text()='Random forest']")
    save_page(browser, "phase-host")
