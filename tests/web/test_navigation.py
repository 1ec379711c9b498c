"""The site navigation as each role gets it: the phone tab bar and the desktop header drawn from
lms/navigation/, the current place, badges, the More page, the skip link; and no place offered
that refuses the person who sees it."""
import re

import pytest

from lms import navigation
from lms.notifications.services import notify
from tests.conftest import count_queries
from tests.practicals_support import scenario  # noqa: F401 (fixture)
from tests.unit.test_navigation import T0, _signed

ACCOUNTS = {
    "agent": dict(roles=("agent",), star_level=1),
    "mentor": dict(roles=("mentor", "agent"), star_level=4),
    "trainer": dict(roles=("trainer",)),
    "admin": dict(roles=("admin",)),
}


def tabbar(html: str) -> list[tuple[str, str | None, str]]:
    """(href, aria-current, visible label) of each tab."""
    bar = re.search(r'<nav class="tabbar"[^>]*>(.*?)</nav>', html, re.S)
    assert bar, "no tab bar"
    return [(href, current or None, label) for href, current, label in re.findall(
        r'<a class="tab[^"]*" href="([^"]+)"(?: aria-current="(\w+)")?>.*?<span class="nav-text">([^<]+)</span>',
        bar.group(1), re.S)]


def first_focusable(html: str) -> str:
    body = html.split("<body", 1)[1]
    return re.search(r"<(a|button|input(?![^>]*type=\"hidden\")|select|textarea|summary)\b[^>]*>", body).group(0)


@pytest.mark.parametrize("role", ACCOUNTS)
def test_the_tab_bar_of_each_role_on_its_home(client, make_user, login_as, role):
    user = make_user(preferred_language="en", **ACCOUNTS[role])
    login_as(user)
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    tabs = tabbar(html)
    with client.application.test_request_context("/"):
        from flask import url_for

        expected = [url_for(item.endpoint) for item in navigation.tabs_for(user)] + ["/more"]
    assert [href for href, _, _ in tabs] == expected
    assert 4 <= len(tabs) <= 5
    # the page we landed on is the first tab, marked as the current page; no other tab is
    assert response.request.path in (tabs[0][0], "/")
    assert [current for _, current, _ in tabs] == ["page"] + [None] * (len(tabs) - 1)
    assert tabs[-1][2] == "More"
    # the desktop header offers the same main places, the bell, log out and the other language
    header = re.search(r'<header class="topbar">(.*?)</header>', html, re.S).group(1)
    for href in expected[:-1]:
        assert f'href="{href}"' in header
    assert 'action="/logout"' in header and 'value="zh_CN"' in header and 'href="/inbox"' in header
    assert user.name in header


@pytest.mark.parametrize("role", ACCOUNTS)
def test_the_skip_link_comes_first_and_leads_to_main(client, make_user, login_as, role):
    login_as(make_user(preferred_language="en", **ACCOUNTS[role]))
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert first_focusable(html) == '<a class="skip-link" href="#main">'
    assert html.count('id="main"') == 1 and re.search(r'<main id="main"[^>]*>', html)
    assert "Skip to content" in html


def test_logged_out_pages_keep_the_language_switch_and_have_no_tabs(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'class="tabbar"' not in html and 'action="/language"' in html
    assert first_focusable(html) == '<a class="skip-link" href="#main">'


@pytest.mark.parametrize("role", ACCOUNTS)
def test_every_place_offered_opens_for_the_person_it_is_offered_to(client, make_user, login_as, catalog, role):
    user = make_user(**ACCOUNTS[role])
    login_as(user)
    more = client.get("/more")
    assert more.status_code == 200
    html = client.get("/", follow_redirects=True).get_data(as_text=True) + more.get_data(as_text=True)
    offered = set(re.findall(r'<a class="(?:tab|mainnav-link|menu-link|nav-row)[^"]*" href="([^"]+)"', html))
    with client.application.test_request_context("/"):
        from flask import url_for

        assert offered == {url_for(item.endpoint) for item in navigation.items_for(user)} | {"/more"} | \
            {url_for(navigation.landing_endpoint(user))}
    for href in sorted(offered):
        response = client.get(href)
        assert response.status_code in (200, 302), (role, href, response.status_code)
        if response.status_code == 302:
            assert not response.location.startswith("/login"), (role, href)


def test_the_current_place_is_marked_in_the_header_and_the_tab_bar(client, make_user, login_as):
    login_as(make_user(preferred_language="en", star_level=1))
    html = client.get("/practicals/mine").get_data(as_text=True)
    assert ("/practicals/mine", "page", "Practicals") in tabbar(html)
    assert re.search(r'<a class="mainnav-link is-current" href="/practicals/mine" aria-current="page">', html)
    html = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'class="inbox-link is-current"[^>]*aria-current="page"', html)
    # a page that is not a tab marks "More" (as the section, not as the page)
    html = client.get("/more").get_data(as_text=True)
    assert ("/more", "page", "More") in tabbar(html)


def test_badges_show_what_waits(client, make_user, login_as, scenario):
    mentor = make_user(roles=("mentor", "agent"), star_level=4)
    agent = make_user(preferred_language="en", mentor=mentor)
    _signed(mentor, agent, scenario)
    _signed(mentor, agent, scenario)
    login_as(agent)
    html = client.get("/learn").get_data(as_text=True)
    practicals_tab = re.search(r'<a class="tab" href="/practicals/mine">(.*?)</a>', html, re.S).group(1)
    assert '<span class="nav-badge" aria-hidden="true">2</span>' in practicals_tab
    assert "(2 results to acknowledge)" in practicals_tab
    assert 'class="badge inbox-count">2<' in html and "Inbox, 2 unread" in html  # the sign-offs were notified

    # the mentor: practicals of their mentees still to observe, on the Mentees tab
    client.post("/logout")
    login_as(mentor)
    mentee = make_user(mentor=mentor)
    from lms.practicals import services

    services.open_practical(mentor, mentee, scenario, scheduled_for=None, now=T0)
    html = client.get("/mentoring").get_data(as_text=True)
    mentees_tab = re.search(r'<a class="tab is-current" href="/mentoring" aria-current="page">(.*?)</a>', html, re.S)
    assert '<span class="nav-badge" aria-hidden="true">1</span>' in mentees_tab.group(1)
    # their own result to acknowledge (as an agent) is behind "More" on their bar: the More tab counts it
    senior = make_user(roles=("mentor",), star_level=5)
    mentor.mentor = senior
    from lms.extensions import db

    db.session.commit()
    _signed(senior, mentor, scenario)
    html = client.get("/mentoring").get_data(as_text=True)
    more_tab = re.search(r'<a class="tab" href="/more">(.*?)</a>', html, re.S).group(1)
    assert '<span class="nav-badge" aria-hidden="true">1</span>' in more_tab
    assert re.search(r'<summary class="mainnav-link">\s*<span class="nav-text">[^<]+</span><span class="nav-badge"', html)


def test_the_more_page(client, make_user, login_as):
    user = make_user(roles=("trainer",), preferred_language="en")
    login_as(user)
    html = client.get("/more").get_data(as_text=True)
    main = html.split('<main id="main"', 1)[1]
    for label in ("Programme", "Content", "Reports", "Account", "Inbox", "Log out", "简体中文", "Question banks" if
                  "banks" not in [i.key for i in navigation.tabs_for(user)] else "Exams"):
        assert label in main, label
    assert 'action="/logout"' in main and 'action="/language"' in main
    assert client.get("/more").status_code == 200
    client.post("/logout")
    assert client.get("/more").location.startswith("/login")


def test_the_navigation_costs_the_same_whatever_is_waiting(client, make_user, login_as):
    agent = make_user()
    login_as(agent)
    notify(agent.id, "test", key="n0", link="", now=T0, params={})
    few = count_queries(lambda: client.get("/more"))
    for number in range(1, 40):
        notify(agent.id, "test", key=f"n{number}", link="", now=T0, params={})
    assert count_queries(lambda: client.get("/more")) == few


def test_a_forced_password_change_offers_only_language_and_log_out(client, make_user, login_as):
    from lms.extensions import db

    user = make_user(roles=("trainer",), preferred_language="en")
    login_as(user)
    user.must_change_password = True
    db.session.commit()
    response = client.get("/account/password")
    if response.status_code == 404:
        pytest.skip("no change-password page in this build")
    for html in (response.get_data(as_text=True), client.get("/no-such-page").get_data(as_text=True)):
        assert 'class="tabbar"' not in html and 'class="mainnav"' not in html
        assert 'action="/logout"' in html and 'action="/language"' in html
