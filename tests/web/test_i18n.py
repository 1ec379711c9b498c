"""Chinese by default, English on request: preference, then session, then Accept-Language."""
import pytest


@pytest.mark.parametrize("header, expected", [
    (None, "登录"), ("zh-CN,zh;q=0.9", "登录"), ("en-US,en;q=0.8", "Log in"), ("fr-FR", "登录"), ("zh-TW", "登录"),
])
def test_login_page_follows_accept_language(client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert f"<h1>{expected}</h1>" in page


def test_html_lang_attribute(client):
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_switching_language_is_kept_for_the_session_and_the_account(client, make_user, login_as):
    user = make_user()
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.location == "/login"
    assert "<h1>Log in</h1>" in client.get("/login").get_data(as_text=True)
    login_as(user)
    client.post("/language", data={"language": "zh_CN", "next": "/"})
    assert user.preferred_language == "zh_CN"
    # The account's preference wins over the browser's header on any device.
    other = client.application.test_client()
    other.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    assert "我的学习" in other.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"language": "xx", "next": "/login"})
    assert "<h1>登录</h1>" in client.get("/login").get_data(as_text=True)


def test_catalogs_are_compiled_and_complete():
    """The shipped .mo matches the .po and every message has a Chinese translation."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    from lms import PACKAGE_DIR

    po_path = PACKAGE_DIR / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    mo_path = po_path.with_suffix(".mo")
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and not (m.string if not m.pluralizable else all(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []
    with mo_path.open("rb") as handle:
        compiled = read_mo(handle)
    def pairs(messages):
        as_key = lambda value: value if isinstance(value, str) else tuple(value)  # noqa: E731 (plural forms)
        return {as_key(m.id): as_key(m.string) for m in messages if m.id}

    assert pairs(compiled) == pairs(catalog), "run: pybabel compile -d lms/translations"


def test_every_string_in_the_code_is_in_the_catalog():
    """A new _() string without a translation fails here: run the pybabel commands of the README."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po

    from lms import PACKAGE_DIR
    from lms.config import PROJECT_ROOT

    with (PROJECT_ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    in_code = set()
    for directory in ("lms", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                str(PROJECT_ROOT / directory), [(pattern.split("/", 1)[1], method) for pattern, method in method_map
                                                 if pattern.startswith(directory + "/")],
                options_map, keywords):
            in_code.add(message if isinstance(message, str) else message[0])
    with (PACKAGE_DIR / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}
    assert sorted(in_code - translated) == []


@pytest.mark.parametrize("level, language, label", [
    (1, "en", "1 star"), (2, "en", "2 stars"), (1, "zh-CN", "1 星"), (0, "en", "0 stars")])
def test_star_labels_have_the_right_plural(app, level, language, label):
    from flask import render_template_string

    with app.test_request_context(headers={"Accept-Language": language}):
        html = render_template_string('{% from "_macros.html" import stars %}{{ stars(level) }}', level=level)
    assert f'aria-label="{label}"' in html
