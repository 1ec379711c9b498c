"""Scenario files: the format, every problem reported as path:line, and the shipped samples."""
import pytest

from lms.config import PROJECT_ROOT
from lms.content.courses import load_course_tree
from lms.content.scenarios import load_scenario_tree, parse_scenario
from tests.conftest import write_course
from tests.practicals_support import SCENARIO, write_scenario


def parse(text: str, slug: str = "test-call"):
    return parse_scenario(text, "s.md", slug)


def errors_of(text: str, slug: str = "test-call") -> list[str]:
    spec, errors = parse(text, slug)
    assert spec is None
    return [str(error) for error in errors]


def line_of(text: str, needle: str) -> int:
    return text.split(needle)[0].count("\n") + 1


def test_a_valid_file_gives_the_script_and_the_rubric():
    spec, errors = parse(SCENARIO)
    assert errors == []
    script, rubric = spec.script, spec.rubric
    assert script.title == "测试场景" and script.minutes == 5 and script.star_level is None
    assert script.persona == "张先生，宽带用户。" and script.situation == "第三次来电。"
    assert [step.title for step in script.steps] == ["开场", "结束"]
    first = script.steps[0]
    assert first.lines == {"calm": "你好，我的网断了。", "angry": "你们怎么又断网了！"}
    assert first.good == "先回应情绪。" and first.phrasings == ("让您久等了，非常抱歉。",) and first.mistakes == ("抢话。",)
    assert script.steps[1].mistakes == ()
    assert rubric.pass_percent == 75.0
    assert [(c.key, c.weight, c.fatal, c.allow_na, c.max_points) for c in rubric.criteria] == [
        ("empathy", 2, False, False, 2), ("verify", 1, True, False, 1), ("escalate", 1, False, True, 1)]
    assert rubric.criteria[0].levels == ("没有回应", "回应空泛", "具体回应")


def test_english_headings_and_half_width_punctuation_are_accepted():
    text = (SCENARIO.replace("## 客户画像", "## Persona").replace("## 情境", "## Situation")
            .replace("## 步骤：开场", "## Step: Opening").replace("### 客户（生气）", "### Customer (angry)")
            .replace("### 客户（平静）", "### 客户(平静)").replace("### 参考话术", "### Model phrasings"))
    spec, errors = parse(text)
    assert errors == [] and spec.script.steps[0].title == "Opening"
    assert set(spec.script.steps[0].lines) == {"calm", "angry"}


def test_hashes_separate_script_from_rubric():
    spec, _ = parse(SCENARIO)
    script_changed, _ = parse(SCENARIO.replace("张先生，宽带用户。", "张先生，老用户。"))
    rubric_changed, _ = parse(SCENARIO.replace("pass_percent: 75", "pass_percent: 80"))
    assert script_changed.script.content_hash != spec.script.content_hash
    assert script_changed.rubric.content_hash == spec.rubric.content_hash
    assert rubric_changed.rubric.content_hash != spec.rubric.content_hash
    assert rubric_changed.script.content_hash == spec.script.content_hash
    assert parse(SCENARIO)[0].script.content_hash == spec.script.content_hash


@pytest.mark.parametrize("old, new, needle, message", [
    ("minutes: 5", "minutes: 5\ncolour: red", "colour:", "unknown key 'colour'"),
    ("pass_percent: 75\n", "", "---", "the pass mark ('pass_percent') must be given"),  # a missing key: line 1
    ("pass_percent: 75", "pass_percent: 120", "pass_percent:", "the pass mark ('pass_percent') must be a number above 0 and up to 100"),
    ("    weight: 2", "    weight: heavy", "weight: heavy", "the weight ('weight') must be a whole number from 1 to 100, not 'heavy'"),
    ("    fatal: true", "    fatal: yes please", "fatal: yes please", "the fatal mark ('fatal') must be true or false"),
    ("      - 未核实\n      - 已核实\n", "      - 未核实\n", "    levels:\n      - 未核实\n  - key: escalate",
     "criterion 'verify' needs the levels ('levels'): a list of 2 to 6 descriptions"),
    ("  - key: escalate", "  - key: empathy", "key: empathy\n    title: 按规定升级",
     "the criterion id 'empathy' is also used by criterion 1"),
    ("  - key: verify", "  - key: Verify_Me", "key: Verify_Me", "the criterion id 'Verify_Me' may hold only lowercase"),
    ("    weight: 1\n    na: true", "    weight: 1\n    na: true\n    colour: red", "colour: red",
     "unknown key 'colour' in a criterion"),
    ("      - 回应空泛", "      - ''", "''", "the description of level 1 must be given"),
])
def test_front_matter_problems_name_their_line(old, new, needle, message):
    text = SCENARIO.replace(old, new, 1)
    assert text != SCENARIO
    errors = errors_of(text)
    assert any(error.startswith(f"s.md:{line_of(text, needle)}: ") and message in error for error in errors), errors


@pytest.mark.parametrize("old, new, needle, message", [
    ("## 情境", "## 背景故事", "## 背景故事", "unknown section '## 背景故事'"),
    ("### 常见错误", "### 注意事项", "### 注意事项", "unknown step part '### 注意事项'"),
    ("### 客户（平静）\n\n你好，我的网断了。\n\n", "", "## 步骤：开场", "needs the customer's calm line"),
    ("### 参考话术\n\n- 让您久等了，非常抱歉。\n", "", "## 步骤：开场", "needs '### 参考话术'"),
    ("- 让您久等了，非常抱歉。", "让您久等了，非常抱歉。", "让您久等了，非常抱歉。",
     "write each of the model phrasings as a '- ' list item"),
    ("### 好的做法\n\n先回应情绪。", "### 好的做法\n\n先回应情绪。\n\n### 好的做法\n\n再说一遍。", "### 好的做法\n\n再说一遍",
     "'### 好的做法' is given twice in this step"),
    ("## 客户画像", "开头的闲话\n\n## 客户画像", "开头的闲话", "text before the first section"),
    ("## 步骤：开场\n\n", "## 步骤：开场\n\n步骤说明放错地方\n\n", "步骤说明放错地方", "must sit under one of its '###' parts"),
    ("### 客户（生气）\n\n你们怎么又断网了！", "### 客户（生气）\n", "### 客户（生气）", "the customer's line is empty"),
])
def test_body_problems_name_their_line(old, new, needle, message):
    text = SCENARIO.replace(old, new, 1)
    assert text != SCENARIO
    errors = errors_of(text)
    assert any(error.startswith(f"s.md:{line_of(text, needle)}: ") and message in error for error in errors), errors


def test_missing_sections_and_steps_are_reported():
    body_start = SCENARIO.index("## 客户画像")
    errors = errors_of(SCENARIO[:body_start] + "## 客户画像\n\n只有画像。\n")
    assert any("needs a section '## 情境'" in error for error in errors)
    assert any("at least one section '## 步骤：<title>'" in error for error in errors)


def test_headings_inside_code_fences_are_text():
    text = SCENARIO.replace("先回应情绪。", "先回应情绪。\n\n```\n## 这不是小节\n```\n")
    spec, errors = parse(text)
    assert errors == [] and "## 这不是小节" in spec.script.steps[0].good


def test_a_rubric_where_everything_may_be_na_is_refused():
    text = SCENARIO.replace("    weight: 2\n", "    weight: 2\n    na: true\n").replace(
        "    fatal: true\n", "    fatal: true\n    na: true\n")
    assert any("at least one criterion must not be 'na: true'" in error for error in errors_of(text))


def test_bad_slug_and_broken_front_matter():
    assert any("may hold only lowercase" in error for error in errors_of(SCENARIO, slug="Bad Slug"))
    assert errors_of("## 客户画像\n") == ["s.md:1: the file must start with a '---' line opening the front matter"]
    assert errors_of("---\ntitle: x\nweight: [1\n---\n")[0].startswith("s.md:4: front matter is not valid YAML")


def test_tree_reads_scenarios_beside_their_course(tmp_path):
    root = tmp_path / "courses"
    write_course(root, "0-01-a", slug="basics-a")
    write_course(root, "0-02-b", slug="basics-b")
    write_scenario(root, "0-01-a", "call-one")
    write_scenario(root, "0-02-b", "call-one")  # same slug elsewhere
    write_scenario(root, "0-02-b", "broken", SCENARIO.replace("pass_percent: 75", "pass_percent: lots"))
    specs, errors = load_scenario_tree(root)
    assert [(spec.slug, spec.course_slug, spec.path) for spec in specs] == [
        ("call-one", "basics-a", "courses/0-01-a/scenarios/call-one.md")]
    assert [str(error) for error in errors] == [
        "courses/0-02-b/scenarios/broken.md:4: the pass mark ('pass_percent') must be a number above 0 and up to 100, not 'lots'",
        "courses/0-02-b/scenarios/call-one.md:1: the scenario id 'call-one' is also used by "
        "courses/0-01-a/scenarios/call-one.md",
    ]
    # the course parser does not mistake the scenarios folder for lessons
    courses, course_errors = load_course_tree(root)
    assert course_errors == [] and [len(course.lessons) for course in courses] == [3, 3]


SAMPLES = {
    "complaint-handling": "repeated-outage-complaint",
    "business-processes": "bill-went-up",
    "conflict-resolution": "iptv-refund-outside-policy",
    "law-and-privacy": "spouse-asks-for-call-records",
    "emergency-handling": "outage-queue",
    "communication-basics": "elderly-caller-tv-no-signal",
    "emotion-management": "abusive-night-caller",
    "quality-monitoring": "quality-feedback-to-colleague",
    "coaching-skills": "early-transfer-coaching",
    "one-to-one-reviews": "scores-dropped-after-family-issue",
}


def test_the_sample_scenarios_are_complete():
    specs, errors = load_scenario_tree(PROJECT_ROOT / "courses")
    assert errors == []
    assert {spec.course_slug: spec.slug for spec in specs} == SAMPLES
    assert sum(any(c.allow_na for c in spec.rubric.criteria) for spec in specs) >= len(specs) // 2  # N/A shown
    for spec in specs:
        assert 4 <= len(spec.script.steps) <= 6, spec.slug
        for step in spec.script.steps:
            assert set(step.lines) == {"calm", "angry", "confused"}, (spec.slug, step.title)
            assert step.good and step.phrasings and step.mistakes, (spec.slug, step.title)
        criteria = spec.rubric.criteria
        assert any(c.fatal for c in criteria), spec.slug
        assert len({c.weight for c in criteria}) > 1, f"{spec.slug}: criteria should be weighted"
        assert 50 <= spec.rubric.pass_percent <= 90
        assert spec.script.persona and spec.script.situation
