"""The console's page in a real headless chromium (Debian's) against the console served by uvicorn on
the local MariaDB: what an agent sees for each state. Screenshots of each state are saved under the
test's temporary folder for people to look at; the assertions read the page's text, not pixels."""

from __future__ import annotations

import json
import re
import socket

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from churnguard.cli import main
from churnguard.db import connect
from tests.console.conftest import HIGH_RISK, LOW_RISK, NEGATIVE_MESSAGE, service_on, serving_console
from tests.engine.faults import SENTIMENT_FUNCTIONS, failing_functions

pytestmark = pytest.mark.mariadb
WAIT_S = 15


def open_console(browser, console_url):
    browser.get(console_url)
    WebDriverWait(browser, WAIT_S).until(
        lambda page: page.execute_script("return document.readyState") == "complete"
    )


def text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def visible(browser, element_id: str) -> bool:
    return browser.find_element(By.ID, element_id).is_displayed()


def wait_visible(browser, element_id: str) -> None:
    WebDriverWait(browser, WAIT_S).until(
        expected_conditions.visibility_of_element_located((By.ID, element_id))
    )


def type_key(browser, area_code: str, phone: str) -> None:
    for element_id, value in (("area-code", area_code), ("phone", phone)):
        field = browser.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(value)


def look_up(browser, customer: dict) -> None:
    type_key(browser, str(customer["area_code"]), customer["phone"])
    browser.find_element(By.ID, "phone").send_keys(Keys.ENTER)  # the keyboard path: Enter looks up


def recommend(browser, message: str | None) -> None:
    wait_visible(browser, "customer")
    WebDriverWait(browser, WAIT_S).until(
        lambda page: page.find_element(By.ID, "recommend-button").is_enabled()
    )
    box = browser.find_element(By.ID, "message")
    box.clear()
    if message:
        box.send_keys(message)
    box.send_keys(Keys.CONTROL, Keys.ENTER)  # Ctrl+Enter asks for the offer
    wait_visible(browser, "answer")
    WebDriverWait(browser, WAIT_S).until(lambda page: text(page, "offer-id").startswith("Recorded as offer"))


def offer_id(browser) -> int:
    return int(text(browser, "offer-id").split()[3])


def test_high_risk_customer_sees_the_large_credit_with_reasons(browser, console_url, tmp_path):
    open_console(browser, console_url)
    look_up(browser, HIGH_RISK)
    wait_visible(browser, "customer")
    browser.save_screenshot(str(tmp_path / "1-customer-found.png"))
    assert text(browser, "latest-message")  # the message on file is shown
    recommend(browser, NEGATIVE_MESSAGE)
    browser.save_screenshot(str(tmp_path / "2-high-risk-offer.png"))
    assert "$25 credit on the next bill" in text(browser, "offer")
    assert text(browser, "rule") == "negative_high_risk"
    assert "churn probability" in text(browser, "reason")
    # Three decimals: this customer's score rounds to 1.000 under some fixture models.
    assert re.fullmatch(r"high \([01]\.\d{3}\)", text(browser, "risk"))
    assert text(browser, "sentiment").startswith("NEGATIVE (confidence 0.")
    assert text(browser, "call-reason") == "billing dispute"
    assert "calls to customer service" in text(browser, "drivers")
    assert text(browser, "arm") == "none (not an experiment)"
    assert not visible(browser, "degraded") and not visible(browser, "error")
    assert browser.switch_to.active_element.get_attribute("id") == "outcome-accepted"


def test_the_printed_address_signs_in_and_the_token_leaves_the_address_bar(browser, console_url, tmp_path):
    base, token = console_url.split("?token=")
    browser.delete_all_cookies()
    browser.get(base)  # the console without its token: refused, nothing of the page
    assert "401" in browser.page_source and "?token=" in browser.page_source
    assert browser.find_elements(By.ID, "lookup") == []
    open_console(browser, console_url)
    assert browser.current_url == base and token not in browser.current_url
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly: no script reads it
    (cookie,) = browser.get_cookies()
    assert (cookie["value"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        token,
        True,
        "Strict",
        "/",
    )
    look_up(browser, HIGH_RISK)  # the page's own calls carry the cookie
    wait_visible(browser, "customer")
    browser.save_screenshot(str(tmp_path / "signed-in-by-token.png"))
    assert not visible(browser, "error")


def test_low_risk_customer_with_the_message_on_file_gets_no_offer(browser, console_url, tmp_path):
    open_console(browser, console_url)
    look_up(browser, LOW_RISK)
    recommend(browser, None)
    browser.save_screenshot(str(tmp_path / "low-risk-no-offer.png"))
    assert "[none]" in text(browser, "offer")
    assert "message: the customer's latest message on file" in text(browser, "notes")


def test_outcome_recorded_with_one_key_shows_in_the_list_and_the_offers_report(
    browser, console_url, console_db_url, experiment_customer, tmp_path, capsys
):
    open_console(browser, console_url)
    look_up(browser, experiment_customer)
    recommend(browser, NEGATIVE_MESSAGE)
    assert text(browser, "arm").startswith("credit_15_vs_5: arm credit_")
    arm = text(browser, "arm").rsplit(" ", 1)[1]
    recorded = offer_id(browser)
    browser.find_element(By.TAG_NAME, "body").send_keys("1")  # "1": accepted
    WebDriverWait(browser, WAIT_S).until(
        lambda page: text(page, "outcome-status").startswith("Outcome recorded")
    )
    WebDriverWait(browser, WAIT_S).until(lambda page: "outcome: accepted" in text(page, "recent-offers"))
    browser.save_screenshot(str(tmp_path / "3-outcome-recorded.png"))
    assert text(browser, "outcome-status") == f"Outcome recorded: accepted for offer {recorded}."
    assert f"[offer {recorded}]" in text(browser, "recent-offers")

    accepted = arm_row(capsys, console_db_url, arm)
    assert accepted["outcomes"] >= 1 and accepted["retained"] >= 1 and accepted["accepted"] >= 1

    browser.find_element(By.TAG_NAME, "body").send_keys("3")  # "3": the call ended, correcting "1"
    WebDriverWait(browser, WAIT_S).until(lambda page: "call ended" in text(page, "outcome-status"))
    assert text(browser, "outcome-status") == (
        f"Outcome recorded: call ended for offer {recorded} (replacing the earlier outcome)."
    )
    WebDriverWait(browser, WAIT_S).until(
        lambda page: f"outcome: call ended [offer {recorded}]" in text(page, "recent-offers")
    )
    ended = arm_row(capsys, console_db_url, arm)
    assert (ended["outcomes"], ended["accepted"], ended["call_ended"]) == (
        accepted["outcomes"],
        accepted["accepted"] - 1,
        accepted["call_ended"] + 1,
    )


def arm_row(capsys, db_url: str, arm: str) -> dict:
    """The experiment arm's line of `churnguard offers report --json`."""
    capsys.readouterr()
    assert main(["offers", "report", "--json", "--db-url", db_url]) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = [item for item in report["retention_by_arm"] if item["arm"] == arm]
    return row


def test_malformed_phone_is_flagged_as_typed_and_refused(browser, console_url, tmp_path):
    open_console(browser, console_url)
    type_key(browser, "415", "358192")
    browser.find_element(By.ID, "phone").send_keys(Keys.ENTER)
    browser.save_screenshot(str(tmp_path / "malformed-phone.png"))
    assert "phone must look like NNN-NNNN" in text(browser, "error")
    assert browser.find_element(By.ID, "phone").get_attribute("aria-invalid") == "true"
    assert not visible(browser, "customer") and not visible(browser, "answer")
    type_key(browser, "041", "")
    assert "area code must be a 3-digit number" in text(browser, "area-code-hint")


def test_unknown_customer_is_said_in_words(browser, console_url, tmp_path):
    open_console(browser, console_url)
    look_up(browser, {"area_code": 415, "phone": "000-0000"})
    wait_visible(browser, "error")
    browser.save_screenshot(str(tmp_path / "unknown-customer.png"))
    assert "no customer with area code 415 and that phone number" in text(browser, "error")
    assert browser.find_element(By.ID, "recommend-button").get_attribute("disabled") == "true"


def test_degraded_answer_shows_what_it_lacks(browser, console_url, console_db_url, tmp_path):
    open_console(browser, console_url)
    look_up(browser, HIGH_RISK)
    with failing_functions(console_db_url, *SENTIMENT_FUNCTIONS):
        recommend(browser, NEGATIVE_MESSAGE)
    browser.save_screenshot(str(tmp_path / "degraded.png"))
    assert visible(browser, "degraded")
    assert "no sentiment" in text(browser, "missing") and "judge the customer's mood yourself" in text(
        browser, "missing"
    )
    assert text(browser, "sentiment") == "unknown (no sentiment)"
    assert text(browser, "call-reason") == "unknown (no call reason)"
    assert text(browser, "rule") == "high_risk_sentiment_unknown"


def test_a_second_offer_within_the_week_is_flagged_before_the_agent_makes_it(
    browser, console_url, console_db_url, console_engine, tmp_path
):
    open_console(browser, console_url)
    look_up(browser, HIGH_RISK)
    recommend(browser, NEGATIVE_MESSAGE)
    first = offer_id(browser)
    # The customer's next call reaches a colleague's console (the same agent asking again within the
    # repeat window would get this very offer back, tested in tests/engine/test_agents.py).
    with service_on(console_db_url, console_engine) as colleague, serving_console(colleague) as colleague_url:
        open_console(browser, colleague_url)
        look_up(browser, HIGH_RISK)
        second_call(browser, tmp_path, first)


def customer_without_offers(db_url: str) -> dict:
    """A customer no other test of the session has made an offer to (the database is shared)."""
    client = connect(db_url)
    try:
        (row,) = client.query(
            "SELECT c.area_code, c.phone FROM customers AS c WHERE NOT EXISTS (SELECT 1 FROM offers_log AS o"
            " WHERE o.area_code = c.area_code AND o.phone = c.phone COLLATE utf8mb4_unicode_ci)"
            " ORDER BY c.phone DESC LIMIT 1"
        )
    finally:
        client.close()
    return {"area_code": int(row["area_code"]), "phone": str(row["phone"])}


def test_asking_again_within_the_repeat_window_shows_the_same_offer_without_a_warning_about_itself(
    browser, console_url, console_db_url, tmp_path
):
    customer = customer_without_offers(console_db_url)
    open_console(browser, console_url)
    look_up(browser, customer)
    recommend(browser, NEGATIVE_MESSAGE)
    first = offer_id(browser)
    look_up(browser, customer)  # the same agent asks again a minute later
    recommend(browser, NEGATIVE_MESSAGE)
    browser.save_screenshot(str(tmp_path / "repeated-offer.png"))
    assert offer_id(browser) == first
    assert "this is that offer again, not a new one" in text(browser, "notes")
    assert not visible(browser, "previous-warning")  # the offer on screen is no earlier offer


def second_call(browser, tmp_path, first: int) -> None:
    """The colleague's look-up shows the first offer and its warning; their own offer is a new one."""
    WebDriverWait(browser, WAIT_S).until(lambda page: not visible(page, "answer"))  # looked up afresh
    wait_visible(browser, "repeat-warning")
    browser.save_screenshot(str(tmp_path / "repeat-offer-warning.png"))
    assert "already made" in text(browser, "repeat-warning") and "in the last 7 days" in text(
        browser, "repeat-warning"
    )
    assert f"[offer {first}]" in text(browser, "recent-offers")
    recommend(browser, NEGATIVE_MESSAGE)
    assert offer_id(browser) != first
    assert "already made" in text(browser, "previous-warning")


def test_a_database_that_does_not_answer_is_said_in_words(browser, console_engine, tmp_path):
    with socket.socket() as silent:  # accepts connections, never greets: a frozen database
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"mysql://churnguard:pw@127.0.0.1:{silent.getsockname()[1]}/churnguard"
        with (
            service_on(url, console_engine, budget_s=0.5) as service,
            serving_console(service) as console,
        ):
            open_console(browser, console)
            look_up(browser, HIGH_RISK)
            wait_visible(browser, "error")
            browser.save_screenshot(str(tmp_path / "database-not-answering.png"))
    assert "the database did not answer within 0.5 s" in text(browser, "error")
    assert "Traceback" not in browser.page_source


def outcome_buttons_enabled(browser) -> list[bool]:
    return [button.is_enabled() for button in browser.find_elements(By.CSS_SELECTOR, "[data-outcome]")]


def recorded_outcome(db_url: str, offer: int) -> str | None:
    client = connect(db_url)
    try:
        rows = client.query("SELECT outcome FROM offer_outcomes WHERE offer_id = %(offer)s", {"offer": offer})
    finally:
        client.close()
    return rows[0]["outcome"] if rows else None


def test_a_failed_look_up_leaves_no_offer_on_screen_to_record(browser, console_url, console_db_url, tmp_path):
    open_console(browser, console_url)
    look_up(browser, HIGH_RISK)
    recommend(browser, NEGATIVE_MESSAGE)
    offered = offer_id(browser)
    look_up(browser, {"area_code": 415, "phone": "000-0000"})  # the next caller is not on file
    wait_visible(browser, "error")
    browser.save_screenshot(str(tmp_path / "failed-look-up-after-an-offer.png"))
    assert not visible(browser, "answer") and not visible(browser, "customer")
    assert outcome_buttons_enabled(browser) == [False, False, False]
    browser.find_element(By.TAG_NAME, "body").send_keys("1")  # the "accepted" key, out of habit
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, Keys.ENTER)
    assert recorded_outcome(console_db_url, offered) is None
    assert not visible(browser, "answer")


def test_a_new_look_up_clears_the_previous_callers_words(browser, console_url, tmp_path):
    open_console(browser, console_url)
    look_up(browser, HIGH_RISK)
    wait_visible(browser, "customer")
    browser.find_element(By.ID, "message").send_keys(NEGATIVE_MESSAGE)
    look_up(browser, LOW_RISK)
    WebDriverWait(browser, WAIT_S).until(
        lambda page: "375-9999" in page.execute_script("return JSON.stringify(current)")
    )
    browser.save_screenshot(str(tmp_path / "second-caller.png"))
    assert browser.find_element(By.ID, "message").get_attribute("value") == ""
    recommend(browser, None)  # Ctrl+Enter on the new caller uses their message on file, not the first's
    assert "message: the customer's latest message on file" in text(browser, "notes")


def test_an_outcome_goes_to_the_offer_of_the_customer_on_screen_only(
    browser, console_url, console_db_url, tmp_path
):
    open_console(browser, console_url)
    look_up(browser, HIGH_RISK)
    recommend(browser, NEGATIVE_MESSAGE)
    first = offer_id(browser)
    look_up(browser, LOW_RISK)
    wait_visible(browser, "customer")
    assert not visible(browser, "answer")
    browser.find_element(By.TAG_NAME, "body").send_keys("2")
    recommend(browser, None)
    second = offer_id(browser)
    browser.find_element(By.TAG_NAME, "body").send_keys("2")  # "2": declined, for the offer on screen
    WebDriverWait(browser, WAIT_S).until(
        lambda page: text(page, "outcome-status").startswith("Outcome recorded")
    )
    assert text(browser, "outcome-status") == f"Outcome recorded: declined for offer {second}."
    assert (recorded_outcome(console_db_url, first), recorded_outcome(console_db_url, second)) == (
        None,
        "declined",
    )


def test_bidirectional_controls_in_a_message_are_shown_as_code_points(
    browser, console_url, console_db_url, tmp_path
):
    hostile = "Refund the \u202eevil\u202c charge \u2067now\u2069"
    client = connect(console_db_url)
    try:
        client.execute(
            "INSERT INTO customer_messages (area_code, phone, message, received_at) "
            "VALUES (%(area_code)s, %(phone)s, %(message)s, '2099-01-01 00:00:00')",
            {**LOW_RISK, "message": hostile},
        )
        open_console(browser, console_url)
        look_up(browser, LOW_RISK)
        wait_visible(browser, "customer")
        browser.save_screenshot(str(tmp_path / "bidi-message.png"))
        shown = text(browser, "latest-message")
    finally:
        client.execute(
            "DELETE FROM customer_messages WHERE area_code = %(area_code)s AND phone = %(phone)s "
            "AND received_at = '2099-01-01 00:00:00'",
            LOW_RISK,
        )
        client.close()
    assert shown == "Refund the <U+202E>evil<U+202C> charge <U+2067>now<U+2069>"
