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
    assert {m.id: m.string for m in compiled if m.id} == {m.id: m.string for m in catalog if m.id}, \
        "run: pybabel compile -d lms/translations"
