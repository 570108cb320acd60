"""The review pages in English, Russian and Kazakh (issue 17): the catalogs are complete and match
the sources, the templates hold no English outside gettext, and the language is chosen as the
issue says (the reviewer's choice, then Accept-Language, then the `language` setting)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from html.parser import HTMLParser

import pytest
import test_web_review
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from conftest import ROOT
from test_web_review import PASSWORD, login, token

site = test_web_review.site
TRANSLATIONS = ROOT / "vitrina_sync" / "translations"
TEMPLATES = ROOT / "vitrina_sync" / "web" / "templates"
LANGUAGES = ("en", "ru", "kk")
PLURALS = {"en": 2, "ru": 3, "kk": 2}  # CLDR/gettext: ru one/few/many, kk one/other
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")
KAZAKH_LETTERS = set("ӘәҒғҚқҢңӨөҰұҮүҺһІі")


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def ids(messages) -> set:
    return {m.id for m in messages if m.id}


def extracted() -> set:
    """What `make translations` would extract from the current sources (babel.cfg)."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else tuple(message[:2]))
    return found


# -- the catalogs ----------------------------------------------------------------------------------
def test_catalogs_hold_exactly_the_texts_of_the_current_sources():
    source = extracted()
    assert len(source) > 150  # the extraction really read the templates and the code
    for lang in LANGUAGES:
        po = ids(catalog(lang))
        assert not source - po, (
            f"{lang}: not in the catalog (run `make translations`): {sorted(source - po, key=str)[:10]}"
        )
        assert not po - source, (
            f"{lang}: in the catalog but gone from the sources: {sorted(po - source, key=str)[:10]}"
        )


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_message_is_translated_with_the_languages_plural_forms(lang):
    po = catalog(lang)
    assert po.num_plurals == PLURALS[lang] == get_plural(lang).num_plurals, po.plural_forms
    missing, wrong = [], []
    for m in po:
        if not m.id:
            continue
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all(forms) or (isinstance(m.id, tuple) and len(forms) != PLURALS[lang]):
            missing.append(m.id)
            continue
        if "fuzzy" in m.flags:
            wrong.append((m.id, "fuzzy"))
        source = m.id if isinstance(m.id, tuple) else (m.id,)
        wanted = set(PLACEHOLDER.findall(source[-1])) - {"num"}
        for form in forms:
            if set(PLACEHOLDER.findall(form)) - {"num"} != wanted:
                wrong.append((m.id, form))
        letters = re.sub(
            r"%\(\w+\)[sd]|vitrina\S*|VITRINA_\S*|HTTPS?|CIE|dE\w*|p95|Redis|\.zip", "", forms[0]
        )
        if re.search(r"[A-Za-z]{3,}", letters) and not CYRILLIC.search(letters):
            wrong.append((m.id, forms[0]))  # left in English
    assert not missing, f"{lang}: untranslated: {missing[:10]}"
    assert not wrong, f"{lang}: placeholders or text wrong: {wrong[:10]}"


def test_kazakh_is_kazakh_not_russian_copied():
    ru, kk = catalog("ru"), catalog("kk")
    same = [m.id for m in kk if m.id and m.string and m.string == ru.get(m.id).string]
    words = [m for m in kk if m.id and isinstance(m.id, str) and len(m.id) > 20]
    with_kazakh_letters = [m for m in words if KAZAKH_LETTERS & set(m.string)]
    # a few loan words are the same in both (Аудит, Каталог, Режим, Маркетплейс...)
    assert len(same) < 20, same
    assert len(with_kazakh_letters) > 0.8 * len(words)


def test_compiled_catalogs_match_their_sources():
    """The .mo files the server reads are compiled from the .po files as they are now."""
    for lang in LANGUAGES:
        po = catalog(lang)
        with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
            mo = read_mo(fh)
        for m in po:
            if m.id and m.string:
                compiled = mo.get(m.id)
                assert compiled is not None, (lang, m.id)
                as_tuple = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v
                assert as_tuple(compiled.string) == as_tuple(m.string), (lang, m.id)


def test_the_built_wheel_holds_the_compiled_catalogs(tmp_path):
    """What a plain `pip install` gets: the wheel pip builds from this tree (about 2 s)."""
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("vitrina_sync-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for lang in LANGUAGES:
        assert f"vitrina_sync/translations/{lang}/LC_MESSAGES/messages.mo" in names, lang


def test_a_plain_pip_install_ships_the_catalogs():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    globs = data["tool"]["setuptools"]["package-data"]["vitrina_sync"]
    for lang in LANGUAGES:
        for name in ("messages.po", "messages.mo"):
            rel = f"translations/{lang}/LC_MESSAGES/{name}"
            assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


# -- no English outside gettext in the templates ---------------------------------------------------
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
CLASS_BLOCK = re.compile(r"\{% block body_class %\}.*?\{% endblock %\}", re.DOTALL)  # a CSS class
ALLOWED = {
    "vitrina-sync"
}  # the product's name; non-words (1:1, arrows, kbd keys) have no 2 letters
READ_ATTRS = {"title", "placeholder", "aria-label", "alt", "label"}


class Visible(HTMLParser):
    """Text nodes and the attributes a reader sees (button/submit values too), outside
    script/style/code/kbd, of a template with its Jinja parts removed."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "kbd"):
            self.skip += 1
        attrs = dict(attrs)
        for name in READ_ATTRS:
            if attrs.get(name):
                self.found.append(f"{tag}[{name}]={attrs[name]}")
        if attrs.get("value") and (
            tag == "button" or attrs.get("type") in ("submit", "button", "reset")
        ):
            self.found.append(f"{tag}[value]={attrs['value']}")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "kbd"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.found.append(data.strip())


def english_outside_gettext(html: str) -> list[str]:
    parser = Visible()
    parser.feed(JINJA.sub(" ", CLASS_BLOCK.sub(" ", html)))
    found = []
    for item in parser.found:
        text = item.split("=", 1)[-1]
        for word in ALLOWED:
            text = text.replace(word, " ")
        if re.search(r"[A-Za-z]{2,}", text):
            found.append(item)
    return found


def test_templates_hold_no_english_outside_gettext():
    problems = {
        p.name: english_outside_gettext(p.read_text("utf-8")) for p in TEMPLATES.glob("*.html")
    }
    assert not {k: v for k, v in problems.items() if v}, problems


def test_the_template_check_catches_english():
    """The check above is not blind: each kind of leak it must catch."""
    assert english_outside_gettext("<p>Approve</p>") == ["Approve"]
    assert english_outside_gettext('<input placeholder="what is wrong">')
    assert english_outside_gettext('<button title="zoom in">+</button>')
    assert english_outside_gettext('<img alt="source">')
    assert english_outside_gettext('<input type="submit" value="Send">')
    assert not english_outside_gettext("<p>{{ _('Approve') }} <kbd>a</kbd> 1:1 − →</p>")
    assert not english_outside_gettext("<p title=\"{{ _('zoom') }}\">vitrina-sync</p>")


# -- choosing the language -------------------------------------------------------------------------
def lang_of(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_accept_language_picks_the_pages_language(site):
    client = site["app"].test_client()
    cases = {
        "ru-RU,ru;q=0.9,en;q=0.5": ("ru", "Войти", "Имя пользователя"),
        "kk-KZ,kk;q=0.9,ru;q=0.8": ("kk", "Кіру", "Пайдаланушы аты"),
        "en-US,en;q=0.9": ("en", "Log in", "User name"),
        "de-DE": ("en", "Log in", "User name"),  # none of ours: the `language` setting (en)
    }
    for header, (lang, button, label) in cases.items():
        page = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
        assert lang_of(page) == lang and button in page and label in page, header


def test_language_setting_is_the_fallback(site):
    from test_web_cookies import app_with

    client = app_with(site, language="kk").test_client()
    assert lang_of(client.get("/login").get_data(as_text=True)) == "kk"
    page = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert lang_of(page) == "ru"  # the browser's choice comes before the setting


def test_the_reviewers_choice_is_kept_with_them_and_beats_the_browser(site):
    import json

    client = site["app"].test_client()
    login(client, "alice")
    page = client.post(
        "/language",
        data={"language": "kk", "next": "/review", "csrf_token": token(client, "/review")},
        headers={"Accept-Language": "ru"},
    )
    assert page.status_code == 302 and page.headers["Location"] == "/review"
    users = json.loads((site["ws"] / "users.json").read_text())["users"]
    assert users["alice"]["language"] == "kk" and "language" not in users["bob"]
    queue = client.get("/review", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert lang_of(queue) == "kk" and "Тексеру кезегі" in queue
    # another session of the same reviewer (another device) gets their language too
    other = site["app"].test_client()
    login(other, "alice")
    assert (
        lang_of(other.get("/review", headers={"Accept-Language": "en"}).get_data(as_text=True))
        == "kk"
    )
    # a new password keeps the language (users add rewrites the entry)
    from vitrina_sync.web.auth import add_user

    add_user(site["ws"] / "users.json", "alice", PASSWORD + "2")
    assert json.loads((site["ws"] / "users.json").read_text())["users"]["alice"]["language"] == "kk"


def test_the_switch_needs_the_csrf_token(site):
    client = site["app"].test_client()
    login(client, "alice")
    assert client.post("/language", data={"language": "ru"}).status_code == 400


def test_compare_page_in_russian_translates_figures_reasons_checklist_status(site):
    client = site["app"].test_client()
    login(client, "alice")
    page = client.get("/review/MUG-1", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    for text in (
        "Одобрить",
        "Отклонить",
        "Переделать",
        "ореол по краю",
        "Что проверить",
        "форма",
        "ждёт проверки",
        "выберите причину…",
        "предыдущая / следующая",
    ):
        assert text in page, text
    assert 'value="colour changed"' in page  # the sheet gets one text whoever decides
    assert "≤\u00a00,03" in page  # the halo limit, with the locale's decimal comma
    assert "Approve" not in page and "Reject" not in page


def test_decision_flash_message_is_translated(site):
    client = site["app"].test_client()
    login(client, "alice")
    page = client.get("/review/MUG-1", headers={"Accept-Language": "kk"}).get_data(as_text=True)
    fp = re.search(r'name="fp" value="([^"]+)"', page).group(1)
    form = {
        "c": "main",
        "sku": "MUG-1",
        "fp": fp,
        "action": "reject",
        "csrf_token": token(client, "/review"),
    }
    client.post("/decide", data=form, headers={"Accept-Language": "kk"})
    page = client.get("/review/MUG-1", headers={"Accept-Language": "kk"}).get_data(as_text=True)
    assert "Қабылдамау үшін себеп керек." in page


def test_configured_reasons_and_checklists_may_give_text_per_language(site):
    from test_web_cookies import app_with

    app = app_with(
        site,
        reject_reasons=[{"en": "scratches", "ru": "царапины", "kk": "сызаттар"}, "bad edges"],
        checklists={"kitchen": [{"en": "handle", "ru": "ручка", "kk": "тұтқа"}]},
    )
    client = app.test_client()
    login(client, "alice")
    page = client.get("/review/MUG-1", headers={"Accept-Language": "kk"}).get_data(as_text=True)
    assert '<option value="scratches">сызаттар</option>' in page and "тұтқа" in page
    page = client.get("/review/MUG-1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<option value="scratches">scratches</option>' in page and "handle" in page


def test_numbers_dates_and_plurals_follow_the_locale(site):
    from flask_babel import force_locale

    from vitrina_sync.web.i18n import fmt_number, fmt_time, fmt_when
    from vitrina_sync.web.review_packs import pack_counts

    app = site["app"]
    with app.test_request_context("/"):
        with force_locale("ru"):
            assert fmt_number(0.0312) == "0,0312"
            assert fmt_time(1_796_000_000).startswith("30 нояб. 2026")  # 2026-11-30 00:53 UTC
            assert pack_counts({"cards": 1, "files": 3, "skipped": 5}) == (
                "1 карточка, 3 файла, 5 строк пропущено."
            )
            assert pack_counts({"cards": 21, "files": 12, "skipped": 22}) == (
                "21 карточка, 12 файлов, 22 строки пропущены."
            )
            assert fmt_when("2026-12-02") == "2 дек. 2026\u202fг."
            assert fmt_when("2026-12-02 14:05 UTC").startswith("2 дек. 2026\u202fг., 14:05:00")
            assert fmt_when("soon") == "soon"  # not a date: as it is
        with force_locale("kk"):
            assert fmt_number(0.0312) == "0,0312"
            assert pack_counts({"cards": 2, "files": 1, "skipped": 0}).startswith("2 карточка,")
        with force_locale("en"):
            assert fmt_number(0.0312) == "0.0312" and fmt_number(12345) == "12,345"
            assert fmt_time(1_796_000_000) == "Nov 30, 2026, 12:53:20\u202fAM UTC"
            assert pack_counts({"cards": 1, "files": 2, "skipped": 1}) == (
                "1 card, 2 files, 1 row skipped."
            )


def test_a_language_picked_on_the_login_page_follows_the_reviewer_in(site):
    import json

    client = site["app"].test_client()
    response = client.post(
        "/language", data={"language": "ru", "next": "/login", "csrf_token": token(client)}
    )
    assert response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert lang_of(page) == "ru" and "Имя пользователя" in page
    login(client, "bob")
    users = json.loads((site["ws"] / "users.json").read_text())["users"]
    assert users["bob"]["language"] == "ru"
    dashboard = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert lang_of(dashboard) == "ru" and "Строки по статусам" in dashboard


def test_the_switch_refuses_an_unknown_language_and_an_outside_next(site):
    client = site["app"].test_client()
    login(client, "alice")
    response = client.post(
        "/language",
        data={"language": "xx", "next": "https://evil.example/", "csrf_token": token(client, "/")},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert lang_of(client.get("/").get_data(as_text=True)) == "en"


def test_http_errors_are_pages_in_the_readers_language(site):
    client = site["app"].test_client()
    login(client, "alice")
    page = client.get("/review/NOPE", headers={"Accept-Language": "kk"})
    assert page.status_code == 404
    assert "кестеде мұндай артикул жоқ" in page.get_data(as_text=True)
    page = client.get("/no/such/page", headers={"Accept-Language": "ru"})
    assert page.status_code == 404 and "По этому адресу ничего нет." in page.get_data(as_text=True)
    assert client.get("/api/nope").status_code == 404  # machines keep werkzeug's answer


def test_queue_in_russian_names_qa_flags_and_filters_in_russian(site):
    client = site["app"].test_client()
    login(client, "alice")
    page = client.get("/review", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert re.search(r'class="badge flag">ореол по краю 0\.\d+ &gt; 0\.03<', page), page[-3000:]
    assert '<option value="halo">ореол по краю</option>' in page
    assert '<option value="flagged">с флагами</option>' in page
