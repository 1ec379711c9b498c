"""The navigation model (lms/navigation/): each role's tabs and menus, the current place, the badges
(one statement for all of them), and the icon() template global (lms/icons.py)."""
import random
from datetime import datetime, timedelta, timezone

import pytest
from flask import render_template_string, url_for

from lms import icons, navigation
from lms.exams import saving
from lms.exams import services as exams
from lms.extensions import db
from lms.notifications.services import notify
from lms.practicals import services as practicals
from tests.conftest import count_queries
from tests.exam_support import answers_for, make_bank, make_exam, right_raw
from tests.practicals_support import criteria_ids, scenario  # noqa: F401 (fixture)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

# Each role's tab bar (before "More") and every other place it is offered, by NavItem key. The home tab
# is the landing page of lms.auth.landing (admin.overview and workspace.index when registered).
ROLES = {
    "agent": (("agent",), ["learning", "practicals", "my_sessions", "my_record"], {"my_surveys", "inbox", "password"}),
    "mentor": (("mentor", "agent"), ["mentees", "observe", "learning", "my_record"],
               {"practicals", "my_sessions", "my_surveys", "sessions", "archives", "kpi", "mentor_report", "inbox",
                "password"}),
    "mentor only": (("mentor",), ["mentees", "observe", "archives"],
                    {"sessions", "catalog", "kpi", "mentor_report", "inbox", "password"}),
    "trainer": (("trainer",), ["workspace", "marking", "sessions", "banks"],
                {"plans", "archives", "promotions", "evaluations", "catalog", "authoring", "exams", "scenarios", "reports", "kpi",
                 "item_analysis", "survey_results", "mentor_report", "recognition", "inbox", "password"}),
    "admin": (("admin",), ["overview", "staff", "plans", "reports"],
              {"sessions", "archives", "promotions", "evaluations", "catalog", "authoring", "banks", "exams", "kpi",
               "item_analysis", "survey_results", "mentor_report", "recognition", "audit", "inbox", "password"}),
}


def _registered(app, keys):
    """Leave out the optional places whose blueprint is not in this build."""
    return [key for key in keys if navigation.BY_KEY[key].endpoint in app.view_functions]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_its_tabs_and_exactly_its_places(app, make_user, role):
    roles, tabs, others = ROLES[role]
    user = make_user(roles=roles, star_level=4 if "mentor" in roles else 0)
    with app.test_request_context("/"):
        tab_keys = [item.key for item in navigation.tabs_for(user)]
        assert tab_keys == _registered(app, tabs)
        assert tab_keys[0] == next(item.key for item in navigation.ITEMS
                                   if item.endpoint == navigation.landing_endpoint(user) and item.visible_to(user))
        assert {item.key for item in navigation.items_for(user)} - set(tab_keys) == set(_registered(app, others))
        nav = navigation.build(user, "catalog.home", {})
        menu_keys = [item.key for group in nav.groups for item in group.items] + [item.key for item in nav.account]
        assert set(menu_keys) | {"inbox"} == set(_registered(app, others))
        assert len(nav.tabs) <= navigation.MAX_TABS


def test_every_item_resolves_and_says_what_it_is(app):
    with app.test_request_context("/"):
        for item in navigation.ITEMS:
            if item.optional and item.endpoint not in app.view_functions:
                continue
            assert url_for(item.endpoint).startswith("/"), item.key
            assert str(item.label) and str(item.tab_label), item.key
            assert icons.icon(item.icon)  # every icon named here is vendored
            assert item.group in navigation.GROUPS
        assert url_for(navigation.MORE.endpoint) == "/more"
    # the role orders name real items only
    assert {key for keys in navigation.TABS.values() for key in keys} <= set(navigation.BY_KEY)


def test_the_home_tab_follows_the_landing_page(app, make_user, monkeypatch):
    agent = make_user()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        home = navigation.tabs_for(agent)[0]
        nav = navigation.build(agent, "catalog.home", {})
        assert home.endpoint == "catalog.learning" and str(nav.tab_label(home)) == "Home"
        assert nav.current == "learning" and nav.exact  # "/" is the agent home itself
        # a landing page that no item describes still becomes the home tab, called "Home"
        monkeypatch.setattr(navigation, "landing_endpoint", lambda user: "classroom.mine")
        assert navigation.tabs_for(agent)[0].key == "my_sessions"
        monkeypatch.setattr(navigation, "landing_endpoint", lambda user: "certificates.verify_form")
        first = navigation.tabs_for(agent)[0]
        assert (first.key, first.endpoint, str(first.label)) == ("home", "certificates.verify_form", "Home")


def test_the_current_place(app, make_user):
    agent = make_user(employee_no="E0042")
    mentor = make_user(roles=("mentor", "agent"), star_level=4)
    with app.test_request_context("/"):
        nav = navigation.build(agent, "practicals.mine", {})
        assert (nav.current, nav.exact) == ("practicals", True)
        assert nav.aria_current(nav.tabs[1]) == "page" and nav.aria_current(nav.tabs[0]) is None
        nav = navigation.build(agent, "practicals.show", {"practical_id": 3})
        assert (nav.current, nav.exact) == ("practicals", False) and nav.aria_current(nav.tabs[1]) == "true"
        assert navigation.build(agent, "lessons.show", {}).current == "learning"
        # one's own archive is "My record"; a mentee's archive is not
        assert navigation.build(agent, "records.archive", {"employee_no": "E0042"}).current == "my_record"
        assert navigation.build(mentor, "records.archive", {"employee_no": "E0042"}).current == "archives"
        # a place behind "More" marks the More tab; the More page itself is its page
        nav = navigation.build(mentor, "kpi.index", {})
        assert nav.current == "kpi" and nav.more_is_current and nav.more_aria_current == "true"
        nav = navigation.build(mentor, "navigation.more", {})
        assert nav.more_aria_current == "page"
        assert navigation.build(mentor, "static", {}).current is None


def _signed(mentor, agent, scenario, when=T0):
    practical = practicals.open_practical(mentor, agent, scenario, scheduled_for=None, now=when)
    ids = criteria_ids(scenario)
    practicals.sign_off(mentor, practical, script_version_id=scenario.script.id, rubric_version_id=scenario.rubric.id,
                        marks={ids["empathy"]: 2, ids["verify"]: 1, ids["escalate"]: 1}, comments={},
                        overall_comment="", work_on="", mood=None, now=when)
    return practical


def _badges(app, user):
    with app.test_request_context("/"):
        return navigation.badges_for(user, T0)


def test_badges_count_what_waits_for_each_person(app, make_user, scenario):
    mentor = make_user(roles=("mentor", "agent"), star_level=4)
    agent = make_user(mentor=mentor)
    other = make_user(mentor=mentor)
    trainer = make_user(roles=("trainer",))
    assert _badges(app, agent) == {"acknowledge": 0, "inbox": 0}
    assert _badges(app, mentor) == {"acknowledge": 0, "to_observe": 0, "inbox": 0}
    assert _badges(app, trainer) == {"to_mark": 0, "inbox": 0}

    # the agent: signed results not yet acknowledged, unread notifications
    first = _signed(mentor, agent, scenario)
    _signed(mentor, other, scenario)
    assert _badges(app, agent)["acknowledge"] == 1
    notify(agent.id, "test", key="t1", link="", now=T0, params={})
    assert _badges(app, agent)["inbox"] == 2  # the sign-off told the agent too
    practicals.acknowledge(agent, first, "", T0)
    assert _badges(app, agent)["acknowledge"] == 0
    # a correction is a new result in force: it waits for an acknowledgement again
    practicals.correct_practical(mentor, first, marks={i: 0 for i in criteria_ids(scenario).values()}, comments={},
                                 reason="复核", now=T0 + timedelta(hours=1))
    assert _badges(app, agent)["acknowledge"] == 1

    # the mentor: open practicals of their active mentees
    practicals.open_practical(mentor, agent, scenario, scheduled_for=None, now=T0)
    practicals.open_practical(mentor, other, scenario, scheduled_for=None, now=T0)
    cancelled = practicals.open_practical(mentor, other, scenario, scheduled_for=None, now=T0)
    practicals.cancel_practical(mentor, cancelled, T0)
    assert _badges(app, mentor)["to_observe"] == 2
    other.active = False
    db.session.commit()
    assert _badges(app, mentor)["to_observe"] == 1

    # the trainer: attempts with essays waiting for marks, not their own
    bank = make_bank("essays", per_type=1, types=("truefalse", "essay"))
    exam = make_exam([(bank, 2)], shuffle_questions=False, pass_percent=50)
    for sitter in (agent, trainer):
        attempt = exams.start_attempt(sitter, exam, T0, rng=random.Random(1))
        for slot, raw in answers_for(attempt, right_raw).items():
            saving.save_answer(sitter, attempt.id, slot, raw, 1, T0)
        exams.submit_attempt(sitter, attempt.id, T0 + timedelta(minutes=3))
    assert _badges(app, trainer)["to_mark"] == 1


def test_all_badges_cost_one_statement_per_page(app, make_user):
    user = make_user(roles=("agent", "mentor", "trainer", "admin"))
    assert user.roles  # loaded, as on a page: the badges' own cost is what is counted
    with app.test_request_context("/"):
        assert count_queries(lambda: navigation.badges_for(user, T0)) == 1
        assert count_queries(lambda: navigation.badges_for(user, T0)) == 0  # cached for the request


def test_badge_texts_have_english_plurals(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert navigation.badge_text("acknowledge", 1) == "1 result to acknowledge"
        assert navigation.badge_text("acknowledge", 2) == "2 results to acknowledge"
        assert navigation.badge_text("to_mark", 1) == "1 attempt to mark"
        assert navigation.badge_text("inbox", 5) == "5 unread"


# --- icons -------------------------------------------------------------------------------------------

def test_an_icon_is_inline_svg_hidden_unless_labelled(app):
    with app.test_request_context("/"):
        html = render_template_string("{{ icon('bell') }}|{{ icon('bell', 'Inbox <3') }}")
    decorative, labelled = html.split("|")
    assert decorative.startswith('<svg class="icon icon-bell"') and decorative.endswith("</svg>")
    assert 'aria-hidden="true" focusable="false"' in decorative and "role=" not in decorative
    assert 'stroke="currentColor"' in decorative and "<path" in decorative
    assert 'M0 0h24v24H0z' not in decorative  # Tabler's invisible bounding box is dropped
    assert 'role="img" aria-label="Inbox &lt;3"' in labelled and "aria-hidden" not in labelled


def test_an_unknown_icon_fails_loudly(app):
    with app.test_request_context("/"):
        for name in ("no-such-icon", "../favicon", "Bell"):
            with pytest.raises(icons.UnknownIcon):
                render_template_string("{{ icon(name) }}", name=name)


def test_every_vendored_icon_has_a_drawing():
    names = icons.available()
    assert {"home", "bell", "clock", "circle-check", "chevron-right", "dots", "logout", "language"} <= set(names)
    for name in names:
        assert "<path" in icons._body(name) or "<circle" in icons._body(name) or "<rect" in icons._body(name), name
    assert (icons.ICON_DIR / "LICENSE").read_text().startswith("MIT License")
