"""Changing the e-mail address in a real Chromium: from the account page, a wrong password first, then the
change, then the link mailed to the new address. Screenshots go to ``test-output/screenshots/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.cache import caches

import test_browser
from mail_helpers import confirm_by_mail, links, tasks_run_eagerly

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
browser = test_browser.browser
NEW = "alice@elsewhere.example.net"


@pytest.fixture(autouse=True)
def mail_from_this_server(live_server, settings, mailoutbox) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Links in mails point at the live server; mails are sent by the real task, in this process."""
    settings.TOONBENCH_SITE_URL = live_server.url
    caches["throttle"].clear()
    with tasks_run_eagerly():
        yield


def fill(browser, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    for name, value in (("email", email), ("password", password)):
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "#email-change-form button[type=submit]").click()


def test_a_participant_changes_their_address_and_confirms_the_new_one(
    browser, live_server, alice  # type: ignore[no-untyped-def]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    confirm_by_mail(alice)
    wait = WebDriverWait(browser, test_browser.WAIT_S)
    test_browser.sign_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/accounts/")
    assert browser.find_element(By.CSS_SELECTOR, "#address .badge.ok").text == "confirmed"
    browser.find_element(By.LINK_TEXT, "Change your e-mail address").click()

    wait.until(ready.presence_of_element_located((By.ID, "email-change-form")))
    fill(browser, NEW, "not it")
    wait.until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".field.has-error .error"),
                                                   "password: expected your current password"))
    test_browser.save_page(browser, "email-change-refused")
    fill(browser, NEW, "correct horse battery")
    wait.until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".messages"), f"Your address is now {NEW}"))
    assert browser.find_element(By.ID, "address").text.startswith(NEW)
    assert browser.find_element(By.CSS_SELECTOR, "#address .badge.warn").text == "not confirmed"
    test_browser.save_page(browser, "email-changed")

    assert sorted(message.to[0] for message in mail.outbox) == [NEW, "alice@example.org"]
    (link,) = [link for message in mail.outbox if message.to == [NEW]
               for link in links(message.body) if "/accounts/confirm/" in link]
    browser.get(link)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#address-state .badge.ok")))
    browser.get(f"{live_server.url}/accounts/")
    assert browser.find_element(By.CSS_SELECTOR, "#address .badge.ok").text == "confirmed"
