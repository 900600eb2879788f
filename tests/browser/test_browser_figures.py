"""The comparison figures of each benchmark's page in a real Chromium, signed in as a participant with entries.

Screenshots of each page's figures are saved under
``test-output/screenshots/figures-<slug>.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import test_browser
from datasets.build import load_built
from figure_boards import SLUGS, build_boards, cartoon_baseline, face_entry, sync_boards
from site_helpers import finished_submission
from test_browser import SCREENSHOTS, WAIT_S, sign_in

browser = test_browser.browser  # the Chromium fixture, shared with the other browser tests
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "toonnet": {"figure-best_over_time", "figure-own-per_class"},
    "illustration": {"figure-best_over_time", "figure-own-per_class"},
    "icartoonface": {"figure-cmc", "figure-roc", "figure-rank1", "figure-best_over_time"},
    "cartoonization": {"figure-samples", "figure-best_over_time"},
}


@pytest.fixture
def populated(site, tmp_path_factory, alice, bob, django_user_model):  # type: ignore[no-untyped-def]
    """Every benchmark built tiny, with alice's and bob's entries and a baseline on each."""
    root = build_boards(tmp_path_factory.mktemp("figure-boards"))
    site.TOONBENCH_DATA_ROOT = root
    site.TOONBENCH_FID_EXTRACTOR = "seeded-inception"
    boards = sync_boards(root)
    keeper = django_user_model.objects.create_user("toonbench-baselines", "baselines@example.org", "x" * 20)
    for slug in ("toonnet", "illustration"):
        built = load_built(slug, root)
        finished_submission(keeper, boards[slug], built, seed=1, method="Bundled baseline", is_baseline=True)
        finished_submission(alice, boards[slug], built, seed=2, method="Alice's model")
        finished_submission(bob, boards[slug], built, seed=3, method="Bob's model")
    face_entry(keeper, boards["icartoonface"], root, 1.5, "Bundled face baseline", is_baseline=True)
    face_entry(alice, boards["icartoonface"], root, 0.8, "Alice's faces")
    face_entry(bob, boards["icartoonface"], root, 0.3, "Bob's faces")
    cartoon_baseline(keeper, boards["cartoonization"], "cartoon-identity")
    cartoon_baseline(keeper, boards["cartoonization"], "cartoon-opencv-stylization")
    return boards


def test_each_benchmark_page_shows_its_comparison_figures(browser, live_server, populated) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sign_in(browser, live_server, "alice")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for slug in SLUGS:
        browser.get(f"{live_server.url}/benchmarks/{slug}/")
        section = browser.find_element(By.ID, "comparison-figures")
        figures = section.find_elements(By.CSS_SELECTOR, "figure.board-figure")
        assert {figure.get_attribute("id") for figure in figures} == EXPECTED[slug]
        WebDriverWait(browser, WAIT_S).until(lambda driver: driver.execute_script(
            "return [...document.querySelectorAll('#comparison-figures img')]"
            ".every(image => image.complete && image.naturalWidth > 300)"))
        for image in section.find_elements(By.TAG_NAME, "img"):
            assert len(image.get_attribute("alt")) > 40
        if "figure-own-per_class" in EXPECTED[slug]:
            alt = section.find_element(By.CSS_SELECTOR, "#figure-own-per_class img").get_attribute("alt")
            assert "Alice's model" in alt and "Bundled baseline" in alt and "Bob's model" not in alt
        browser.execute_script("arguments[0].scrollIntoView()", section)
        path: Path = SCREENSHOTS / f"figures-{slug}.png"
        browser.set_window_size(1360, 2400)
        section.screenshot(str(path))
        assert path.stat().st_size > 20_000
