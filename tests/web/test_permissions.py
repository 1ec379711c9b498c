"""Who may open what: a role x route matrix, CSRF on every form, and the error pages."""
import pytest

from lms.extensions import db
from tests.conftest import assert_access

ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]

# route -> roles allowed (the others get 403; anonymous is sent to the login page)
ROUTES = [
    ("GET", "/", {"agent", "mentor", "trainer", "admin"}),
    ("GET", "/courses/basics-a", {"agent", "mentor", "trainer", "admin"}),
    ("GET", "/courses/basics-a/lessons/one", {"agent", "mentor", "trainer", "admin"}),
    ("POST", "/courses/basics-a/lessons/one/complete", {"agent", "mentor", "trainer", "admin"}),
    ("GET", "/courses/level-one/lessons/one", {"trainer", "admin"}),  # level 1, the users are at 0
    ("POST", "/courses/level-one/lessons/one/complete", {"trainer", "admin"}),
    ("GET", "/admin/users", {"admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_role_route_matrix(catalog, client, make_user, login_as, role, method, path, allowed):
    if role != "anonymous":
        login_as(make_user(roles=(role,), star_level=0))
    response = client.open(path, method=method)
    assert_access(response, role, allowed)


def test_404_page(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)


def test_500_page_rolls_back_the_session(app, make_user):
    user = make_user(name="原名")

    @app.route("/boom")
    def boom():
        user.name = "half-written"
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500 and "Something went wrong" in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.name == "原名"


def test_no_asset_comes_from_the_internet(catalog, client, make_user, login_as):
    login_as(make_user(roles=("admin",)))
    for path in ("/", "/courses/basics-a", "/courses/basics-a/lessons/one", "/login"):
        html = client.get(path).get_data(as_text=True)
        for attribute in ("src", "href"):
            for value in __import__("re").findall(rf'{attribute}="([^"]+)"', html):
                assert not value.startswith(("http:", "https:", "//")), value
