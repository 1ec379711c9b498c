"""Login, logout, safe redirects, session renewal, cookies."""
import pytest

from lms.auth.services import safe_next_url


def test_login_with_employee_number_and_password(client, make_user):
    user = make_user(name="张晓")
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    assert response.status_code == 302 and response.location == "/"
    assert "张晓" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("employee_no, password", [("U-nobody", "password123"), (None, "wrong-password")])
def test_wrong_credentials_rerender_with_the_same_message(client, make_user, employee_no, password):
    user = make_user()
    response = client.post("/login", data={"employee_no": employee_no or user.employee_no, "password": password},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Wrong employee number or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous


def test_empty_form_shows_field_errors(client):
    response = client.post("/login", data={}, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("This field is required.") == 2


def test_inactive_user_cannot_log_in_and_is_logged_out(client, make_user, login_as):
    user = make_user()
    login_as(user)
    user.active = False
    from lms.extensions import db

    db.session.commit()
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    assert response.status_code == 200


def test_anonymous_is_sent_to_login_with_next_and_comes_back(client, make_user, catalog):
    user = make_user()
    response = client.get("/courses/basics-a")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    page = client.get(response.location).get_data(as_text=True)
    assert 'value="/courses/basics-a"' in page
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123",
                                           "next": "/courses/basics-a"})
    assert response.location == "/courses/basics-a"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                                    "evil.example", "/ok\r\nSet-Cookie: x=1"])
def test_next_never_leaves_the_site(client, make_user, target):
    user = make_user()
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123", "next": target})
    assert response.location == "/"
    assert safe_next_url(target) is None


def test_session_is_renewed_at_login(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["language"] = "en"
    client.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["language"] == "en"  # the visitor's language choice survives
        assert session["_user_id"] == str(user.id)


def test_logout_is_a_post_and_ends_the_session(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user()
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_hashed(make_user):
    user = make_user(password="s3cret-pass")
    assert "s3cret-pass" not in user.password_hash
    assert user.check_password("s3cret-pass") and not user.check_password("s3cret-pasS")
