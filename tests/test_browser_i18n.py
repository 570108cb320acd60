"""The review pages in Russian, Kazakh and English, and on a phone, in a real browser (issue 17):
Debian's chromium through playwright against a real `vitrina-sync serve` (test_browser's fixture).

Browsers set to ru-RU, kk-KZ and en-US (playwright's `locale`, which sends Accept-Language) see
their language on the login, queue and compare pages, at 390x844 with touch: no sideways
scrolling, the decision buttons at least 44 px high in the bottom half of the screen (the
thumb's), the source/output comparison switched by tapping. The header's switch overrides the
browser and stays with the reviewer. Screenshots of each language go to test-artifacts/;
VITRINA_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/compare-ru.png and queue-phone-kk.png.
"""

from __future__ import annotations

import os
import re

import pytest
import test_browser
from test_browser import CHROMIUM, FLAGS, PASSWORD, images_loaded, playwright_or_skip, too_wide

pytestmark = pytest.mark.browser
served = test_browser.served
PHONE = {"width": 390, "height": 844}
WORDS = {  # what each language must show on login, queue and compare
    "ru-RU": ("ru", "Войти", "Очередь проверки", ("Одобрить", "Отклонить", "Переделать")),
    "kk-KZ": ("kk", "Кіру", "Тексеру кезегі", ("Мақұлдау", "Қабылдамау", "Қайта жасау")),
    "en-US": ("en", "Log in", "Review queue", ("Approve", "Reject", "Regenerate")),
}
DOCS = {"compare-ru", "queue-phone-kk"}


def shot(page, name: str) -> None:
    test_browser.ARTIFACTS.mkdir(exist_ok=True)
    path = test_browser.ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("VITRINA_UPDATE_SCREENSHOTS") and name in DOCS:
        test_browser.small_copy(path, test_browser.ROOT / "docs" / "screenshots" / f"{name}.png")


def fits(page) -> bool:
    return page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]


def log_in(page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(base + "/")


def decision_buttons(page) -> list[dict]:
    return [page.locator(".actionbar button").nth(i).bounding_box() for i in range(3)]


def check_tap_toggle(page) -> None:
    """One tap shows the source where the output was, the next one the output again."""
    page.wait_for_function("() => document.getElementById('stage').dataset.mode === 'tap'")
    viewport = page.locator(".pane-output .viewport")
    assert page.locator("#output").is_visible()
    viewport.tap()
    assert page.locator("#output").is_hidden() and page.locator("img.under").is_visible()
    viewport.tap()
    assert page.locator("#output").is_visible()


def phone_pages(browser, base: str, locale: str) -> None:
    lang, login_word, queue_title, buttons = WORDS[locale]
    context = browser.new_context(
        locale=locale, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=1
    )
    page = context.new_page()
    try:
        page.goto(base + "/login")
        assert page.get_attribute("html", "lang") == lang and login_word in page.content()
        assert fits(page), too_wide(page)
        shot(page, f"login-phone-{lang}")
        log_in(page, base, "alice")
        page.goto(base + "/review")
        images_loaded(page)
        assert page.get_attribute("html", "lang") == lang and queue_title in page.content()
        assert fits(page), too_wide(page)
        shot(page, f"queue-phone-{lang}")
        page.goto(base + "/review/RING-3")
        images_loaded(page)
        assert page.get_attribute("html", "lang") == lang
        assert [page.locator(".actionbar button").nth(i).inner_text() for i in range(3)] == list(
            buttons
        )
        assert fits(page), too_wide(page)
        for box in decision_buttons(page):  # thumb-sized, at the bottom of the screen
            assert box["height"] >= 44 and box["y"] >= PHONE["height"] / 2, box
            assert box["y"] + box["height"] <= PHONE["height"] and box["x"] >= 0, box
        small = page.evaluate(
            """() => Array.from(document.querySelectorAll('main button, main select'))
            .filter(b => b.getClientRects().length && b.getBoundingClientRect().height < 44)
            .map(b => b.outerHTML.slice(0, 80))"""
        )
        assert not small, small  # every control on the page (touch-up ones too) takes a thumb
        page.mouse.wheel(0, 2000)  # still there after scrolling down to the checklist
        assert decision_buttons(page)[0]["y"] >= PHONE["height"] / 2
        page.evaluate("window.scrollTo(0, 0)")
        check_tap_toggle(page)
        shot(page, f"compare-phone-{lang}")
        # Reject from the bar with no reason asks for one instead of posting
        page.locator(".actionbar button.reject").tap()
        assert page.evaluate("document.activeElement.id") == "reason"
    finally:
        context.close()


def test_each_language_on_a_phone(served):
    server, _catalog = served
    sync_playwright = playwright_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            for locale in WORDS:
                phone_pages(browser, server.url, locale)
            desktop = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 800})
            page = desktop.new_page()
            log_in(page, server.url, "alice")
            page.goto(server.url + "/review/MUG-1")
            images_loaded(page)
            assert "Что проверить" in page.content() and "ореол по краю" in page.content()
            shot(page, "compare-ru")
        finally:
            browser.close()


def test_the_header_switch_overrides_the_browser_and_stays_with_the_reviewer(served):
    server, _catalog = served
    sync_playwright = playwright_or_skip()
    base = server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            russian = browser.new_context(locale="ru-RU", viewport=PHONE, has_touch=True)
            page = russian.new_page()
            log_in(page, base, "bob")
            page.goto(base + "/review")
            assert page.get_attribute("html", "lang") == "ru"
            page.click("form.langs button[value=kk]")
            page.wait_for_url(re.compile(r".*/review$"))
            assert page.get_attribute("html", "lang") == "kk" and "Тексеру кезегі" in page.content()
            english = browser.new_context(locale="en-US")  # bob on another device
            other = english.new_page()
            log_in(other, base, "bob")
            other.goto(base + "/review")
            assert other.get_attribute("html", "lang") == "kk"
            other.click("form.langs button[value=en]")
            assert other.get_attribute("html", "lang") == "en" and "Review queue" in other.content()
        finally:
            browser.close()
