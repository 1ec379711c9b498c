"""Trainer and admin screens speak the trainer's language: no file paths, commands or developer words
(issue 12 item 9), in English and Chinese; the scenario editor lists its problems with their line
numbers as buttons and tells the editor script which lines to highlight; the lost placeholder of
`courses//scenarios/` (FOUND.md) is gone; the trainer's tables carry labels for the phone layout."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from lms.exams import services as exam_services
from lms.extensions import db
from lms.models import Scenario
from tests.exam_support import make_bank, make_exam
from tests.practicals_support import SCENARIO, scenario  # noqa: F401 (fixture)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
LANGUAGES = {"en": {"Accept-Language": "en"}, "zh": {"Accept-Language": "zh-CN"}}

# Words a trainer should never have to read. YAML only in capitals: ".yaml" as a file ending in the
# import form's format list is what the trainer's file is called.
JARGON = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"\blms\s+(sync|db|demo|serve)\b", r"courses/", r"question_banks", r"\bREADME\b", r"front[ -]matter",
    r"\bslugs?\b", r"\w\.md\b", r"source_path", r"/scenarios/", r"\bgit\b")] + [re.compile(r"\bYAML\b")]


class VisibleText(HTMLParser):
    """The text a person can read on the page: text nodes (not scripts, styles or the editor's own
    text) and the attributes browsers show or read out."""

    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "value")
    HIDDEN_ELEMENTS = ("script", "style", "textarea")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN_ELEMENTS:
            self._hidden += 1
        attributes = dict(attrs)
        for name in self.SHOWN_ATTRIBUTES:
            if name == "value" and (tag != "input" or attributes.get("type") not in ("submit", "button")):
                continue
            if attributes.get(name):
                self.parts.append(attributes[name])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN_ELEMENTS and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def jargon_in(text: str) -> list[str]:
    return [match.group(0) for pattern in JARGON for match in pattern.finditer(text)]


@pytest.fixture
def world(scenario, make_user):  # noqa: F811 (the fixture imported above)
    """Everything from the course files (a bank, an exam, a scenario), with an attempt to list."""
    bank = make_bank("kb", per_type=1, types=("single", "essay"))
    bank.source_path = "question_banks/kb.yaml"
    exam = make_exam([(bank, 2)], slug="final-kb", attempts_allowed=1)
    exam.source_path = "courses/0-01-a/exam.yaml"
    db.session.commit()
    agent = make_user(star_level=0, name="张晓")
    attempt = exam_services.start_attempt(agent, exam, NOW)
    exam_services.submit_attempt(agent, attempt.id, NOW + timedelta(minutes=5))
    return {"bank": bank, "exam": exam, "scenario": scenario, "agent": agent,
            "trainer": make_user(roles=("trainer",), name="李静"), "admin": make_user(roles=("admin",), name="王敏")}


PAGES = {
    "banks": lambda w: "/banks/",
    "bank from files": lambda w: f"/banks/{w['bank'].slug}",
    "new bank": lambda w: "/banks/new",
    "bank import": lambda w: "/banks/import",
    "new question": lambda w: f"/banks/{w['bank'].slug}/questions/new?type=single",
    "edit question": lambda w: f"/banks/{w['bank'].slug}/questions/QKEY-kb-single-0/edit",
    "exams": lambda w: "/exams/manage",
    "new exam": lambda w: "/exams/manage/new",
    "exam from files": lambda w: f"/exams/manage/{w['exam'].id}/edit",
    "attempts": lambda w: f"/exams/manage/{w['exam'].id}/attempts",
    "marking": lambda w: "/exams/marking",
    "exam page": lambda w: f"/exams/{w['exam'].slug}",
    "scenarios": lambda w: "/practicals/scenarios",
    "scenario": lambda w: "/practicals/scenarios/test-call",
    "new scenario": lambda w: "/practicals/scenarios/new",
    "scenario from files": lambda w: "/practicals/scenarios/test-call/edit",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ["trainer", "admin"])
@pytest.mark.parametrize("page", PAGES)
def test_no_developer_words_on_the_trainer_pages(world, client, login_as, page, role, language):
    login_as(world[role])
    response = client.get(PAGES[page](world), headers=LANGUAGES[language])
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    assert len(text) > 100  # a real page was read
    assert jargon_in(text) == [], text


def test_the_jargon_check_sees_paths_and_commands():
    """The page test above would catch what used to be shown."""
    for old in ("This bank comes from a file. When that file changes, lms sync applies it over edits made here",
                "the same format as the files under courses/COURSE-FOLDER/scenarios/ (see the README)",
                "from the file question_banks/kb.yaml", "Slug (the file name)", "front matter", "a YAML list"):
        assert jargon_in(visible_text(f"<p>{old}</p>")), old
    assert jargon_in(visible_text('<button title="see README">x</button>'))
    assert not jargon_in(visible_text("<textarea>lms sync</textarea><p>Bank file (.yaml)</p>"))


def test_files_are_named_in_words(world, client, login_as):
    login_as(world["trainer"])
    pages = {name: client.get(PAGES[name](world), headers=LANGUAGES["en"]).get_data(as_text=True)
             for name in ("bank from files", "exam from files", "scenario from files", "banks", "exams")}
    sentence = "Changes you make here stay until the file itself is changed; then the file's version applies."
    for name in ("bank from files", "exam from files", "scenario from files"):
        assert 'class="warning from-files"' in pages[name], name
        assert "comes from the course files" in visible_text(pages[name]), name
        assert sentence in visible_text(pages[name]), name
    assert "From the course files" in visible_text(pages["banks"])
    assert "From the course files" in visible_text(pages["exams"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_scenario_help_has_no_lost_placeholder(world, client, login_as, language):
    """FOUND.md: the help showed `courses//scenarios/`; it now explains the format inline."""
    login_as(world["trainer"])
    for path in ("/practicals/scenarios/new", "/practicals/scenarios/test-call/edit"):
        html = client.get(path, headers=LANGUAGES[language]).get_data(as_text=True)
        assert "courses//" not in html and "courses/" not in visible_text(html)
        assert re.search(r"<details class=\"writing-help\" id=\"writing-help\">\s*<summary>", html)
        help_text = visible_text(html.split('id="writing-help"', 1)[1].split("</details>", 1)[0])
        for key in ("pass_percent", "criteria", "weight", "levels", "fatal: true", "na: true", "## 客户画像",
                    "### 客户（平静）", "### 参考话术"):
            assert key in help_text, key
    assert "How to write a scenario" in client.get("/practicals/scenarios/new", headers=LANGUAGES["en"]).get_data(
        as_text=True)


BAD = SCENARIO.replace("weight: 2", "weight: lots").replace("title: 测试场景", "title:")


@pytest.mark.parametrize("language, line_label", [("en", "Line %s"), ("zh", "第 %s 行")])
def test_the_scenario_editor_lists_problems_by_line(world, client, login_as, language, line_label):
    login_as(world["trainer"])
    course_id = world["scenario"].course_id
    response = client.post("/practicals/scenarios/new", headers=LANGUAGES[language],
                           data={"slug": "web-call", "course": course_id, "text": BAD})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # title (line 2) and weight (line 8), each a button that names its line, in line order
    buttons = re.findall(r'<button type="button" class="line-jump" data-line="(\d+)"[^>]*>([^<]+)</button>', html)
    assert [(line, label.strip()) for line, label in buttons] == [("2", line_label % 2), ("8", line_label % 8)]
    assert 'data-error-lines="2 8"' in html and 'data-editor="scenario"' in html
    assert 'aria-describedby="source-errors"' in html
    errors = visible_text(html.split('id="source-errors"', 1)[1].split("</ol>", 1)[0])
    assert "weight" in errors and "lots" in errors
    assert "scenario_editor.js" in html and "vendor/codemirror/lib/codemirror.js" in html
    assert db.session.scalar(select(func.count(Scenario.id))) == 1  # nothing saved

    edit = client.post("/practicals/scenarios/test-call/edit", headers=LANGUAGES[language],
                       data={"course": course_id, "text": BAD})
    assert 'data-error-lines="2 8"' in edit.get_data(as_text=True)


def test_a_taken_id_is_a_problem_of_the_id_field_not_of_a_line(world, client, login_as):
    login_as(world["trainer"])
    response = client.post("/practicals/scenarios/new", headers=LANGUAGES["en"], data={
        "slug": "test-call", "course": world["scenario"].course_id, "text": SCENARIO})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Another scenario already uses this id. Choose another." in html
    assert "line-jump" not in html and 'data-error-lines=""' in html
    assert jargon_in(visible_text(html)) == []


def test_the_editor_without_problems_marks_no_line(world, client, login_as):
    login_as(world["trainer"])
    html = client.get("/practicals/scenarios/test-call/edit", headers=LANGUAGES["en"]).get_data(as_text=True)
    assert 'data-error-lines=""' in html and "source-errors" not in html
    assert '<label for="text">Script and rubric</label>' in html  # the editor takes its name from the label


@pytest.mark.parametrize("page, table", [("exams", "exams-table"), ("attempts", "attempts-table")])
def test_the_trainer_tables_label_their_cells_for_the_phone_layout(world, client, login_as, page, table):
    login_as(world["trainer"])
    html = client.get(PAGES[page](world), headers=LANGUAGES["en"]).get_data(as_text=True)
    assert '<div class="table-wrap">' in html
    body = html.split(f'class="data {table} cards"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    cells = re.findall(r"<td\b[^>]*>", body)
    assert cells and all("data-label=" in cell for cell in cells), cells
    assert any('class="secondary"' in cell for cell in cells)
