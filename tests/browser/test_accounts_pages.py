"""Account pages in a real Chromium: the confirmation link mailed at signup, the mail settings, a password
reset by mail from the login page, and the profile. Screenshots go to ``test-output/screenshots/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.cache import caches

import test_browser
from mail_helpers import links, tasks_run_eagerly

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
browser = test_browser.browser
NEW_PASSWORD = "a fresh pass phrase 77"


@pytest.fixture(autouse=True)
def mail_from_this_server(live_server, settings, mailoutbox) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Links in mails point at the live server; mails are sent by the real task, in this process; sign-in
    counters (signup, login and reset count against the rate per address) start empty."""
    settings.TOONBENCH_SITE_URL = live_server.url
    caches["throttle"].clear()
    with tasks_run_eagerly():
        yield


def mailed_link(to: str, contains: str) -> str:
    (link,) = [link for message in mail.outbox if message.to == [to]
               for link in links(message.body) if contains in link]
    return link


def test_a_participant_confirms_chooses_mails_resets_the_password_and_sees_the_profile(
    browser, live_server  # type: ignore[no-untyped-def]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, test_browser.WAIT_S)
    browser.get(f"{live_server.url}/accounts/signup/")
    for name, value in (("username", "erin"), ("email", "erin@example.org"), ("password1", "a long pass phrase 42"),
                        ("password2", "a long pass phrase 42")):
        browser.find_element(By.NAME, name).send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "#signup-form button[type=submit]").click()
    wait.until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".messages"), "Follow the link we mailed"))

    browser.get(mailed_link("erin@example.org", "/accounts/confirm/"))
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#address-state .badge.ok")))
    switch = browser.find_element(By.NAME, "submission_finished")
    assert switch.is_selected()
    switch.click()
    browser.find_element(By.CSS_SELECTOR, "#mail-settings-form button[type=submit]").click()
    wait.until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".messages"), "Mail settings saved."))
    assert not browser.find_element(By.NAME, "submission_finished").is_selected()
    assert browser.find_element(By.NAME, "submission_failed").is_selected()
    test_browser.save_page(browser, "mail-settings")

    browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/logout/'] button").click()
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "a[href='/accounts/signup/']")))  # signed out
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.ID, "forgot-password").click()
    wait.until(ready.presence_of_element_located((By.NAME, "email"))).send_keys("erin@example.org")
    browser.find_element(By.CSS_SELECTOR, "#password-reset-form button[type=submit]").click()
    wait.until(ready.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Check your mail"))
    browser.get(mailed_link("erin@example.org", "/accounts/password/reset/"))
    for name in ("new_password1", "new_password2"):
        wait.until(ready.presence_of_element_located((By.NAME, name))).send_keys(NEW_PASSWORD)
    test_browser.save_page(browser, "password-reset")
    browser.find_element(By.CSS_SELECTOR, "#password-set-form button[type=submit]").click()
    wait.until(ready.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Password set"))

    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys("erin")
    browser.find_element(By.NAME, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait.until(lambda driver: "/accounts/login/" not in driver.current_url)
    browser.get(f"{live_server.url}/accounts/")
    assert browser.find_element(By.CSS_SELECTOR, "#address .badge.ok").text == "confirmed"
    test_browser.save_page(browser, "account")
    browser.find_element(By.LINK_TEXT, "your public profile").click()
    wait.until(ready.text_to_be_present_in_element((By.ID, "entries"), "No public entries."))
