"""The site navigation, per role, from one list: the phone's bottom tab bar, the desktop header and
the /more page are all drawn from ITEMS.

Each role has its 4 main places (TABS): the first is always where the person lands
(lms.auth.landing), so "Home" follows the landing pages wherever they move. Everything else the person
may open is grouped (GROUPS) in the desktop header's menus and on the phone's "More" page, with the
inbox, the language switch and log out. Badges count what waits for this person
(lms/navigation/badges.py): one SQL statement per page, whatever the data.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from lms.auth.landing import landing_endpoint
from lms.extensions import db
from lms.navigation.badges import badge_text, badges_for  # noqa: F401 (the templates' and tests' names)

bp = Blueprint("navigation", __name__)
log = logging.getLogger(__name__)

ROLE_ORDER = ("admin", "trainer", "mentor", "agent")  # a person's main role: the first they hold
ROLE_LABELS = {"agent": _l("Agent"), "mentor": _l("Mentor"), "trainer": _l("Trainer"), "admin": _l("Admin")}
STAFF = frozenset({"mentor", "trainer", "admin"})
MANAGERS = frozenset({"trainer", "admin"})


@dataclass(frozen=True)
class NavItem:
    """One place in the navigation. `roles`: who sees it (any of them; empty: everyone logged in),
    `unless`: hidden from holders of these roles. `section`: other endpoints that belong to this place
    and mark it current ("bp.*" for a whole blueprint, "records.archive@self" for one's own archive).
    `optional`: the endpoint comes from a blueprint that may not be registered; the item is left out
    then. `home_label`/`home_icon`: how the item reads when it is the person's home tab."""

    key: str
    endpoint: str
    label: object
    icon: str
    group: str
    roles: frozenset[str] = frozenset()
    unless: frozenset[str] = frozenset()
    short: object = None
    badge: str | None = None
    section: tuple[str, ...] = ()
    optional: bool = False
    home_label: object = None
    home_icon: str | None = None

    def visible_to(self, user) -> bool:
        return (not self.roles or user.has_role(*self.roles)) and not (self.unless and user.has_role(*self.unless))

    @property
    def tab_label(self):
        return self.short or self.label


GROUPS = {
    "learning": _l("My training"),
    "mentoring": _l("Mentoring"),
    "programme": _l("Programme"),
    "content": _l("Content"),
    "reports": _l("Analytics"),
    "account": _l("Account"),  # not a menu of its own: the user menu on a desktop, the end of the More page
}

_COURSE_PAGES = ("catalog.*", "lessons.*", "exams.show", "exams.take", "exams.confirm", "exams.result",
                 "exams.review", "surveys.answer")

ITEMS: tuple[NavItem, ...] = (
    # --- an agent's own learning
    NavItem("learning", "catalog.learning", _l("My learning"), "book", "learning", frozenset({"agent"}),
            short=_l("Learning"), section=_COURSE_PAGES, home_label=_l("Home"), home_icon="home"),
    NavItem("practicals", "practicals.mine", _l("Practicals"), "clipboard-check", "learning", frozenset({"agent"}),
            badge="acknowledge", section=("practicals.show", "practicals.rehearsal", "practicals.rehearsal_step",
                                          "practicals.rate_rehearsal", "practicals.scenario")),
    NavItem("my_sessions", "classroom.mine", _l("My sessions"), "calendar-event", "learning", frozenset({"agent"}),
            short=_l("Sessions"), section=("classroom.checkin",)),
    NavItem("my_surveys", "surveys.mine", _l("My surveys"), "checkbox", "learning", frozenset({"agent"}),
            short=_l("Surveys")),
    NavItem("my_record", "records.mine", _l("My record"), "id-badge", "learning", frozenset({"agent"}),
            short=_l("Record"), section=("records.archive@self", "certificates.show", "people_reports.recognition_me")),
    # --- mentoring
    NavItem("mentees", "mentoring.home", _l("Mentees"), "users", "mentoring", frozenset({"mentor"}),
            badge="to_observe", section=("mentoring.*",)),
    NavItem("observe", "practicals.new", _l("Observe"), "eye", "mentoring", frozenset({"mentor"}),
            section=("practicals.correct",)),
    # --- the programme
    NavItem("overview", "admin.overview", _l("Overview"), "layout-dashboard", "programme", frozenset({"admin"}),
            optional=True),
    NavItem("staff", "admin.users", _l("Staff"), "users-group", "programme", frozenset({"admin"}),
            section=("admin.*", "jobs.*")),
    NavItem("plans", "plans.index", _l("Training plans"), "checklist", "programme", MANAGERS,
            short=_l("Plans"), section=("plans.*",)),
    NavItem("sessions", "classroom.index", _l("Classroom sessions"), "chalkboard", "programme", STAFF,
            short=_l("Sessions"), section=("classroom.*",)),
    NavItem("archives", "records.staff", _l("Training archives"), "archive", "programme", STAFF,
            short=_l("Archives"), section=("records.archive", "exports.*")),
    NavItem("promotions", "promotions.ready", _l("Promotions"), "stars", "programme", MANAGERS,
            section=("promotions.*",)),
    NavItem("evaluations", "evaluations.import_form", _l("Customer evaluations"), "message-circle", "programme",
            MANAGERS, short=_l("Evaluations"), section=("evaluations.*",)),
    # --- content and marking
    NavItem("workspace", "workspace.index", _l("Workspace"), "briefcase", "content", frozenset({"trainer"}),
            optional=True, section=("workspace.*",)),
    NavItem("marking", "exams.marking", _l("Marking"), "pencil", "content", frozenset({"trainer"}),
            badge="to_mark", section=("exams.mark",)),
    NavItem("catalog", "catalog.learning", _l("Course catalog"), "books", "content", unless=frozenset({"agent"}),
            short=_l("Courses"), section=_COURSE_PAGES),
    NavItem("authoring", "authoring.courses", _l("Course editor"), "notebook", "content", MANAGERS,
            short=_l("Editor"), section=("authoring.*",), optional=True),
    NavItem("banks", "banks.index", _l("Question banks"), "database", "content", MANAGERS,
            short=_l("Banks"), section=("banks.*",)),
    NavItem("exams", "exams.manage", _l("Exams"), "file-text", "content", MANAGERS,
            section=("exams.new_exam", "exams.edit_exam", "exams.exam_attempts")),
    NavItem("scenarios", "practicals.scenarios", _l("Scenarios"), "message-2", "content", frozenset({"trainer"}),
            section=("practicals.scenario", "practicals.new_scenario", "practicals.edit_scenario")),
    # --- reports
    NavItem("reports", "reports.overview", _l("Reports"), "chart-bar", "reports", MANAGERS, section=("reports.*",)),
    NavItem("kpi", "kpi.index", _l("Training KPI"), "chart-line", "reports", STAFF, short=_l("KPI"),
            section=("kpi.*",)),
    NavItem("item_analysis", "item_analysis.index", _l("Exam analysis"), "report-analytics", "reports", MANAGERS,
            section=("item_analysis.*",)),
    NavItem("survey_results", "surveys.results", _l("Survey results"), "checkbox", "reports", MANAGERS,
            section=("surveys.results", "surveys.course_results", "surveys.session_results",
                     "surveys.instructor_results", "surveys.templates", "surveys.new_template",
                     "surveys.edit_template")),
    NavItem("mentor_report", "people_reports.mentors_index", _l("Mentor report"), "heart-handshake", "reports", STAFF,
            section=("people_reports.mentor_detail",)),
    NavItem("recognition", "people_reports.recognition_board", _l("Recognition board"), "trophy", "reports",
            MANAGERS),
    NavItem("audit", "audit_log.index", _l("Audit log"), "shield-check", "reports", frozenset({"admin"}),
            section=("audit_log.*",)),
    # --- the person's own account: the bell in the header, a row on the More page
    NavItem("inbox", "notifications.index", _l("Inbox"), "bell", "account", badge="inbox",
            section=("notifications.*",)),
    NavItem("password", "auth.change_password", _l("Change password"), "key", "account", optional=True),
)
BY_KEY = {item.key: item for item in ITEMS}

# The main places of each main role, in the order the tab bar shows them (after the home tab). Items the
# person cannot see or that duplicate the home are skipped; the bar holds MAX_TABS places and "More".
TABS = {
    "admin": ("overview", "staff", "plans", "reports", "archives"),
    "trainer": ("workspace", "marking", "sessions", "banks", "exams"),
    "mentor": ("mentees", "observe", "learning", "my_record", "archives"),
    "agent": ("learning", "practicals", "my_sessions", "my_record"),
}
MAX_TABS = 4
MORE = NavItem("more", "navigation.more", _l("More"), "dots", "account")
HOME = NavItem("home", "catalog.home", _l("Home"), "home", "account")  # when no item is the landing page


# --- the navigation of one person on one page --------------------------------------------------------

def main_role(user) -> str:
    return next((role for role in ROLE_ORDER if user.has_role(role)), "agent")


def _registered(item: NavItem) -> bool:
    return not item.optional or item.endpoint in current_app.view_functions


def items_for(user) -> list[NavItem]:
    """Every item `user` may see, in ITEMS order (optional ones only when their endpoint exists)."""
    return [item for item in ITEMS if item.visible_to(user) and _registered(item)]


def tabs_for(user) -> list[NavItem]:
    """The main places: the landing page first, then the main role's places, MAX_TABS at most."""
    visible = {item.key: item for item in items_for(user)}
    home_endpoint = landing_endpoint(user)
    home = next((item for item in visible.values() if item.endpoint == home_endpoint), None)
    if home is None:
        home = NavItem(HOME.key, home_endpoint, HOME.label, HOME.icon, HOME.group)
    tabs = [home]
    for key in TABS[main_role(user)]:
        item = visible.get(key)
        if item and len(tabs) < MAX_TABS and all(item.endpoint != tab.endpoint for tab in tabs):
            tabs.append(item)
    return tabs


def _matches(pattern: str, endpoint: str, view_args: dict, user) -> bool:
    pattern, _, condition = pattern.partition("@")
    if condition == "self" and view_args.get("employee_no") != user.employee_no:
        return False
    if pattern.endswith(".*"):
        return endpoint.startswith(pattern[:-1])
    return endpoint == pattern


def current_item(candidates: list[NavItem], endpoint: str | None, view_args: dict | None, user) -> tuple[str | None, bool]:
    """The key of the item the page belongs to and whether the page IS that item's page (exact
    endpoint) rather than inside its section. Earlier candidates win."""
    if not endpoint:
        return None, False
    for item in candidates:
        if item.endpoint == endpoint:
            return item.key, True
    for item in candidates:
        if any(_matches(pattern, endpoint, view_args or {}, user) for pattern in item.section):
            return item.key, False
    return None, False


@dataclass
class Group:
    key: str
    label: object
    items: list[NavItem]


@dataclass
class Navigation:
    """What base.html draws for one person on one page."""

    user: object
    tabs: list[NavItem]
    groups: list[Group]  # everything else, grouped (desktop menus, the More page)
    account: list[NavItem]  # the person's own account (password): the user menu, the More page
    inbox: NavItem
    badges: dict[str, int]
    current: str | None  # key of the item the page belongs to ("more" for the More page and its items)
    exact: bool  # the page is the current item's own page (aria-current="page"), not a page inside it
    role_names: list = field(default_factory=list)

    def is_current(self, item: NavItem) -> bool:
        return item.key == self.current

    def aria_current(self, item: NavItem) -> str | None:
        if item.key != self.current:
            return None
        return "page" if self.exact else "true"

    def label(self, item: NavItem):
        return item.home_label if item is self.tabs[0] and item.home_label else item.label

    def tab_label(self, item: NavItem):
        return item.home_label if item is self.tabs[0] and item.home_label else item.tab_label

    def icon_of(self, item: NavItem) -> str:
        return item.home_icon if item is self.tabs[0] and item.home_icon else item.icon

    def count(self, item: NavItem) -> int:
        return self.badges.get(item.badge, 0) if item.badge else 0

    def badge_text(self, item: NavItem) -> str:
        return badge_text(item.badge, self.count(item)) if self.count(item) else ""

    @property
    def more_count(self) -> int:
        """What waits behind "More" (the inbox has its own bell in the header)."""
        return sum(self.count(item) for group in self.groups for item in group.items if item.key != "inbox")

    def group_count(self, group: Group) -> int:
        return sum(self.count(item) for item in group.items)

    @staticmethod
    def waiting_text(count: int) -> str:
        return ngettext("%(num)s waiting", "%(num)s waiting", count) if count else ""

    def group_is_current(self, group: Group) -> bool:
        return any(item.key == self.current for item in group.items)

    @property
    def more_is_current(self) -> bool:
        """The More tab stands for the More page and for every place that is not a tab."""
        return self.current is not None and all(tab.key != self.current for tab in self.tabs)

    @property
    def more_aria_current(self) -> str | None:
        if not self.more_is_current:
            return None
        return "page" if self.current == MORE.key else "true"


def build(user, endpoint: str | None, view_args: dict | None, now: datetime | None = None) -> Navigation:
    """The navigation of `user` on the page of `endpoint`: tabs, the grouped rest, badges, the current place."""
    tabs = tabs_for(user)
    tab_endpoints = {tab.endpoint for tab in tabs}
    rest = [item for item in items_for(user) if item.endpoint not in tab_endpoints and item.key != "inbox"]
    groups = [Group(key, label, [item for item in rest if item.group == key])
              for key, label in GROUPS.items() if key != "account"]
    account = [item for item in rest if item.group == "account"]
    inbox = BY_KEY["inbox"]
    try:
        badges = badges_for(user, now)
    except SQLAlchemyError:  # the error page of a failing database still shows, without counts
        if current_app.testing:
            raise
        log.exception("navigation badges")
        db.session.rollback()
        badges = {}
    if endpoint == "catalog.home":  # "/" shows (or redirects to) the person's landing page
        endpoint = tabs[0].endpoint
    current, exact = current_item(tabs + rest + [inbox, MORE], endpoint, view_args, user)
    return Navigation(user, tabs, [group for group in groups if group.items], account, inbox, badges, current,
                      exact, [ROLE_LABELS[role] for role in ROLE_ORDER[::-1] if user.has_role(role)])


def navigation() -> Navigation | None:
    """For templates: the logged-in person's navigation on this page (None when logged out), once per request."""
    if not current_user.is_authenticated:
        return None
    if "navigation" not in g:
        from lms.clock import utcnow

        g.navigation = build(current_user._get_current_object(), request.endpoint, request.view_args, utcnow())
    return g.navigation


@bp.route("/more")
@login_required
def more():
    """The phone's "More" tab: every other place of the person's roles, the inbox, language and log out."""
    return render_template("_nav_more.html")


def init_app(app: Flask) -> None:
    """Register the More page and the template globals `navigation()` and `icon()`."""
    from lms.icons import icon

    app.register_blueprint(bp)
    app.add_template_global(navigation, "navigation")
    app.add_template_global(icon, "icon")

