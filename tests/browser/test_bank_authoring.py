"""A trainer authors a question on a 360 px phone: no page scrolls sideways, preview then save."""
import pytest
from sqlalchemy import select

from lms.banks.services import import_file
from lms.extensions import db
from lms.models import Question
from tests.browser.conftest import horizontal_overflow, log_in

pytestmark = pytest.mark.browser

BANK = """\
slug: complaint-handling
title: 投诉处理题库
questions:
  - id: ch-001
    type: single
    tags: [流程, 首问负责, 一个相当长的标签名字]
    stem: 客户因同一故障第三次来电，情绪激动，并表示如果今天再不解决就要向管局反映。坐席首先应该做什么？
    options:
      - {text: 道歉并复述客户的问题，确认理解无误, correct: true}
      - {text: 直接转维修部门}
"""


def test_trainer_writes_a_question_on_a_phone(app, live_server, phone, make_user):
    make_user(roles=("trainer",), employee_no="T0001", preferred_language="en")
    import_file(BANK.encode(), "complaint-handling.yaml")
    phone.set_viewport_size({"width": 360, "height": 740})
    log_in(phone, live_server, "T0001")

    for path in ("/banks/", "/banks/complaint-handling", "/banks/import",
                 "/banks/complaint-handling/questions/ch-001/edit"):
        phone.goto(live_server + path)
        assert horizontal_overflow(phone) <= 0, path

    phone.goto(live_server + "/banks/complaint-handling")
    phone.click("text=New question")
    phone.click("a.button:has-text('Multiple choice')")
    phone.wait_for_url("**/questions/new?type=multi")  # loaded, not mid-navigation, before measuring
    assert horizontal_overflow(phone) <= 0
    phone.fill("textarea[name=stem]", "处理投诉时，哪些做法是**正确**的？")
    phone.fill("input[name='options-0-text']", "记录客户诉求并生成工单")
    phone.check("input[name='options-0-correct']")
    phone.fill("input[name='options-1-text']", "按约定时间回访")
    phone.check("input[name='options-1-correct']")
    phone.fill("input[name='options-2-text']", "承诺超出权限的赔偿")
    phone.click("button[name=preview]")
    assert phone.inner_html(".preview .prose").strip() == "<p>处理投诉时，哪些做法是<strong>正确</strong>的？</p>"
    assert horizontal_overflow(phone) <= 0
    phone.click("button[name=save]")
    phone.wait_for_url(f"{live_server}/banks/complaint-handling?q=*")
    assert "saved (version 1)" in phone.inner_text(".flash")
    created = db.session.scalar(select(Question).where(Question.type == "multi"))
    assert [option["weight"] for option in created.current.data["options"]] == [0.5, 0.5, -1.0]
