"""Shared by the practicals and mentoring tests: a small scenario file, and a course that holds it."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.clock import utcnow
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.models import Scenario
from lms.practicals.scripts import sync_scenarios
from tests.conftest import write_course

SCENARIO = """---
title: 测试场景
minutes: 5
pass_percent: 75
criteria:
  - key: empathy
    title: 先回应情绪
    weight: 2
    levels:
      - 没有回应
      - 回应空泛
      - 具体回应
  - key: verify
    title: 核实身份
    weight: 1
    fatal: true
    levels:
      - 未核实
      - 已核实
  - key: escalate
    title: 按规定升级
    weight: 1
    na: true
    levels:
      - 没有升级
      - 已升级
---
## 客户画像

张先生，宽带用户。

## 情境

第三次来电。

## 步骤：开场

### 客户（平静）

你好，我的网断了。

### 客户（生气）

你们怎么又断网了！

### 好的做法

先回应情绪。

### 参考话术

- 让您久等了，非常抱歉。

### 常见错误

- 抢话。

## 步骤：结束

### 客户（平静）

好的，谢谢。

### 好的做法

复述方案。

### 参考话术

- 我跟您确认一下方案。
"""


def write_scenario(course_root: Path, folder: str = "0-01-a", slug: str = "test-call", text: str = SCENARIO) -> Path:
    path = course_root / folder / "scenarios" / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def scenario(course_root) -> Scenario:
    """A course (level 0) with one scenario, imported."""
    write_course(course_root, "0-01-a", slug="basics-a")
    write_scenario(course_root)
    sync_courses(db.session, course_root, utcnow())
    sync_scenarios(db.session, course_root, utcnow())
    return db.session.scalar(select(Scenario).where(Scenario.slug == "test-call"))


def criteria_ids(scenario: Scenario) -> dict[str, int]:
    return {criterion.key: criterion.id for criterion in scenario.rubric.criteria}
