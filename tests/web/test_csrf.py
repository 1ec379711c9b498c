"""CSRF on every form: a POST without the page's token is refused."""
import re

import pytest


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.mark.parametrize("path, data", [
    ("/login", {"employee_no": "x", "password": "y"}),
    ("/logout", {}),
    ("/language", {"language": "en"}),
    ("/courses/basics-a/lessons/one/complete", {}),
])
def test_posts_without_a_csrf_token_are_rejected(catalog, client, make_user, path, data):
    user = make_user()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"employee_no": user.employee_no, "password": "password123",
                                       "csrf_token": token}).status_code == 302
    # Logged in, from no page of this site (a forged post carries no same-origin Referer): refused.
    response = client.post(path, data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The form had expired or came from another site" in response.get_data(as_text=True)


def test_login_with_the_page_token_works_when_csrf_is_on(client, make_user):
    user = make_user()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123",
                                           "csrf_token": token})
    assert response.status_code == 302 and response.location == "/"
