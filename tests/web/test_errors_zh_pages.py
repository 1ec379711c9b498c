"""Pages show problems in the reader's language: the bank import page and the scenario editor in Chinese
say the line in Chinese ("第 3 行：") and the problem in Chinese; the same upload in English says it in English."""
import io
import re
from html import unescape

import pytest
from flask import g

from tests.practicals_support import SCENARIO, scenario  # noqa: F401 (fixture)
from tests.unit.test_errors_zh import english_words


@pytest.fixture(autouse=True)
def fresh_globals_per_request(app):
    """Each served request chooses its language afresh (see tests/web/test_admin.py)."""
    @app.teardown_request
    def forget_request_globals(_error):
        for name in list(g):
            g.pop(name)


def problems_in(html: str, css_class: str) -> list[str]:
    """The text of each item of the page's problem list(s) of `css_class`."""
    lists = re.findall(rf'<ul class="{css_class}"[^>]*>(.*?)</ul>', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", " ", item)).strip()
            for items in lists for item in re.findall(r"<li[^>]*>(.*?)</li>", items, re.S)]


def upload(client, text: str, filename: str, language: str):
    return client.post("/banks/import", data={"file": (io.BytesIO(text.encode("utf-8")), filename)},
                       content_type="multipart/form-data", headers={"Accept-Language": language})


@pytest.mark.parametrize("filename, text, line, chinese, english", [
    ("drill.gift", "好题{T}\n\n坏题{=甲 ~乙\n", 3, "第 3 行的 '{' 没有用 '}' 闭合", "the '{' on line 3 is never closed"),
    ("drill.yaml", "slug: drill\ntitle: 演练\nquestions:\n  - id: q1\n    type: truefalse\n    stem: 对吗？\n"
                   "    answer: 也许\n", 7, "答案（answer）必须是 true 或 false",
     "the answer ('answer') must be true or false"),
    ("drill.csv", "id,type,stem,correct\nq-1,truefalse,对吗？,也许\n", 2, "正确答案标记（correct）",
     "the right-answer mark ('correct')"),
])
def test_the_bank_import_page_says_the_problem_in_the_readers_language(client, make_user, login_as, filename, text,
                                                                       line, chinese, english):
    login_as(make_user(roles=("trainer",), preferred_language=None))
    zh = problems_in(upload(client, text, filename, "zh-CN").get_data(as_text=True), "errors-list")
    assert any(problem.startswith(f"{filename} 第 {line} 行：") and chinese in problem for problem in zh), zh
    assert all(english_words(problem) == [] for problem in zh), zh
    en = problems_in(upload(client, text, filename, "en").get_data(as_text=True), "errors-list")
    assert any(problem.startswith(f"{filename}, {'row' if filename.endswith('.csv') else 'line'} {line}: ")
               and english in problem for problem in en), en


def test_the_scenario_editor_says_the_problem_in_chinese(scenario, client, make_user, login_as):  # noqa: F811
    login_as(make_user(roles=("trainer",), preferred_language=None))
    response = client.post("/practicals/scenarios/new", headers={"Accept-Language": "zh-CN"}, data={
        "slug": "web-call", "course": scenario.course_id, "text": SCENARIO.replace("weight: 2", "weight: lots")})
    assert response.status_code == 200
    text = unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    message = "权重（weight）必须是 1 到 100 之间的整数，而不是 'lots'"
    assert message in text
    assert "must be a whole number" not in text
