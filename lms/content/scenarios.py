"""Role-play scenario files: a script and the rubric that scores it, in one Markdown file.

    courses/<course-folder>/scenarios/<slug>.md

The front matter holds the title and the rubric (pass mark and weighted criteria with one
descriptor per level); the body holds the script in fixed sections:

    ## 客户画像 / ## Persona            who calls
    ## 情境 / ## Situation              what happened before the call
    ## 步骤：标题 / ## Step: title      one per step, in order, each with
      ### 客户（平静） ### 客户（生气） ### 客户（困惑）   the customer's line by mood
          (Customer (calm) / (angry) / (confused)); calm is required
      ### 好的做法 / ### Good practice             what a good agent does here
      ### 参考话术 / ### Model phrasings           a "- " list
      ### 常见错误 / ### Common mistakes           a "- " list (optional)

Every front matter key is type-checked by lms.content.fields. Everything here is pure: text in,
specs and `path:line` errors out. The file's course, and so the script's default star level, come
from the folder it sits in.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lms.content.errors import ContentError, _l, listed
from lms.content.fields import SLUG, Fields, Invalid, field_name, text as checked_text
from lms.content.frontmatter import Document, parse_document

MOODS = ("calm", "angry", "confused")
SCENARIO_KEYS = {"title", "star_level", "minutes", "summary", "pass_percent", "criteria"}
CRITERION_KEYS = {"key", "title", "weight", "fatal", "na", "levels"}
MAX_STEPS = 12
MIN_LEVELS, MAX_LEVELS = 2, 6

SECTIONS = {"客户画像": "persona", "persona": "persona", "情境": "situation", "situation": "situation"}
STEP_HEADING = re.compile(r"^(?:步骤|step)\s*[:：]\s*(?P<title>.+)$", re.IGNORECASE)
STEP_PARTS = {
    "客户(平静)": "calm", "customer(calm)": "calm",
    "客户(生气)": "angry", "customer(angry)": "angry",
    "客户(困惑)": "confused", "customer(confused)": "confused",
    "好的做法": "good", "goodpractice": "good",
    "参考话术": "phrasings", "modelphrasings": "phrasings",
    "常见错误": "mistakes", "commonmistakes": "mistakes",
}
LIST_ITEM = re.compile(r"^\s{0,3}[-*+]\s+(?P<text>.*)$")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
HEADINGS = {"persona": "## 客户画像", "situation": "## 情境"}


@dataclass(frozen=True)
class StepSpec:
    title: str
    lines: dict[str, str]  # mood -> the customer's line; always has "calm"
    good: str
    phrasings: tuple[str, ...]
    mistakes: tuple[str, ...]


@dataclass(frozen=True)
class ScriptSpec:
    title: str
    star_level: int | None  # None: the course's
    minutes: int | None
    summary: str
    persona: str
    situation: str
    steps: tuple[StepSpec, ...]

    @property
    def content_hash(self) -> str:
        return _hash(asdict(self))


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    title: str
    weight: int
    fatal: bool
    allow_na: bool
    levels: tuple[str, ...]  # level i is worth i points

    @property
    def max_points(self) -> int:
        return len(self.levels) - 1


@dataclass(frozen=True)
class RubricSpec:
    pass_percent: float
    criteria: tuple[CriterionSpec, ...]

    @property
    def content_hash(self) -> str:
        return _hash(asdict(self))


@dataclass(frozen=True)
class ScenarioSpec:
    slug: str
    script: ScriptSpec
    rubric: RubricSpec
    source_hash: str
    source_text: str
    path: str = ""
    course_slug: str = ""  # from the folder, for files


def _hash(data) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- front matter -------------------------------------------------------------------------------

def _criterion(doc: Document, index: int, raw) -> CriterionSpec | None:
    path = ("criteria", index)
    if not isinstance(raw, dict):
        doc.error(path, _l("criterion %(n)s must be a list of 'key: value' lines (%(keys)s)", n=index + 1,
                           keys=listed(("key", "title", "weight", "levels"))))
        return None
    before = len(doc.errors)
    fields = Fields(raw, doc.error, path)
    fields.unknown(CRITERION_KEYS, what="criterion key")
    key = fields.text("key", required=True, limit=80)
    if key and not SLUG.match(key):
        doc.error(path + ("key",),
                  _l("the criterion id %(key)r may hold only lowercase letters, digits and single hyphens", key=key))
    title = fields.text("title", required=True, limit=200)
    weight = None
    if raw.get("weight") is None:
        doc.error(path, _l("criterion %(criterion)s needs %(field)s", criterion=repr(key) if key else index + 1,
                           field=field_name("weight")))
    else:
        weight = fields.whole("weight", 1, 100)
    fatal = fields.flag("fatal", default=False)
    allow_na = fields.flag("na", default=False)
    levels = raw.get("levels")
    descriptors: list[str] = []
    if not isinstance(levels, list) or not MIN_LEVELS <= len(levels) <= MAX_LEVELS:
        doc.error(path + ("levels",) if "levels" in raw else path,
                  _l("criterion %(criterion)s needs %(field)s: a list of %(low)s to %(high)s descriptions, the first "
                     "worth 0 points", criterion=repr(key) if key else index + 1, field=field_name("levels"),
                     low=MIN_LEVELS, high=MAX_LEVELS))
    else:
        for level, value in enumerate(levels):
            try:
                descriptors.append(checked_text(value, _l("the description of level %(n)s", n=level), required=True,
                                                limit=500))
            except Invalid as problem:
                doc.error(path + ("levels", level), problem.message)
    if len(doc.errors) > before:
        return None
    return CriterionSpec(key, title, weight, fatal, allow_na, tuple(descriptors))


def _rubric(doc: Document, fields: Fields) -> RubricSpec | None:
    if doc.meta.get("pass_percent") is None:
        doc.error(("pass_percent",), _l("%(field)s must be given: the percentage needed to pass, like 80",
                                        field=field_name("pass_percent")))
        pass_percent = None
    else:
        pass_percent = fields.number("pass_percent", 0, 100, above_low=True)
    raw = doc.meta.get("criteria")
    if not isinstance(raw, list) or not raw:
        doc.error(("criteria",), _l("%(field)s must be given: a list of rubric criteria", field=field_name("criteria")))
        return None
    criteria = [_criterion(doc, index, item) for index, item in enumerate(raw)]
    seen: dict[str, int] = {}
    for index, criterion in enumerate(criteria):
        if criterion is None:
            continue
        if criterion.key in seen:
            doc.error(("criteria", index, "key"),
                      _l("the criterion id %(key)r is also used by criterion %(n)s", key=criterion.key,
                         n=seen[criterion.key] + 1))
        seen.setdefault(criterion.key, index)
    if pass_percent is None or any(criterion is None for criterion in criteria) or len(seen) < len(criteria):
        return None
    if all(criterion.allow_na for criterion in criteria):
        doc.error(("criteria",), _l("at least one criterion must not be 'na: true', or nothing could be scored"))
        return None
    return RubricSpec(float(pass_percent), tuple(criteria))


# --- body ---------------------------------------------------------------------------------------

@dataclass
class _Section:
    kind: str  # persona, situation, step; for step parts: calm, angry, confused, good, phrasings, mistakes
    line: int
    text: list[str]
    title: str = ""
    parts: dict | None = None


def _normalise(heading: str) -> str:
    return re.sub(r"\s+", "", heading.replace("（", "(").replace("）", ")")).lower()


def _split_body(doc: Document) -> list[_Section]:
    """Top-level sections with, for steps, their parts. Headings inside code fences are text."""
    sections: list[_Section] = []
    current: _Section | None = None
    part: _Section | None = None
    in_fence = False
    for offset, line in enumerate(doc.body.split("\n")):
        number = doc.body_line + offset
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else re.match(r"^(#{2,3})\s+(.*?)\s*#*\s*$", line)
        if heading and len(heading[1]) == 2:
            name = heading[2].strip()
            step = STEP_HEADING.match(name)
            kind = "step" if step else SECTIONS.get(_normalise(name))
            if kind is None:
                doc.errors.append(ContentError(doc.path, number, _l(
                    "unknown section '## %(name)s': use '## 客户画像' (Persona), '## 情境' (Situation) or "
                    "'## 步骤：<title>' (Step: <title>)", name=name)))
                current, part = _Section("ignored", number, []), None
                continue
            current = _Section(kind, number, [], title=step["title"].strip() if step else "", parts={})
            sections.append(current)
            part = None
            continue
        if heading and current is not None and current.kind == "step":
            name = heading[2].strip()
            kind = STEP_PARTS.get(_normalise(name))
            if kind is None:
                doc.errors.append(ContentError(doc.path, number, _l(
                    "unknown step part '### %(name)s': use 客户（平静）, 客户（生气）, 客户（困惑）, 好的做法, "
                    "参考话术 or 常见错误", name=name)))
                part = _Section("ignored", number, [])
                continue
            if kind in current.parts:
                doc.errors.append(ContentError(doc.path, number, _l(
                    "'### %(name)s' is given twice in this step (first on line %(line)s)", name=name,
                    line=current.parts[kind].line)))
            part = _Section(kind, number, [])
            current.parts.setdefault(kind, part)
            continue
        if current is None:
            if line.strip():
                doc.errors.append(ContentError(doc.path, number, _l("text before the first section: start the body "
                                                                    "with '## 客户画像'")))
                current = _Section("ignored", number, [])
            continue
        (part if current.kind == "step" and part is not None else current).text.append(line)
        if current.kind == "step" and part is None and line.strip():
            doc.errors.append(ContentError(doc.path, number, _l("text in a step must sit under one of its '###' "
                                                                "parts, like '### 客户（平静）'")))
    return sections


def _joined(lines: list[str]) -> str:
    return "\n".join(lines).strip()


def _list_items(doc: Document, section: _Section, name) -> tuple[str, ...]:
    """The '- ' items of a step part; `name` says what they are in messages ("the model phrasings")."""
    items: list[list[str]] = []
    for offset, line in enumerate(section.text, start=1):
        match = LIST_ITEM.match(line)
        if match:
            items.append([match["text"].strip()])
        elif not line.strip():
            continue
        elif items and line.startswith((" ", "\t")):
            items[-1].append(line.strip())
        else:
            doc.errors.append(ContentError(doc.path, section.line + offset,
                                           _l("write each of %(what)s as a '- ' list item", what=name)))
    texts = tuple(" ".join(part for part in item if part).strip() for item in items)
    if any(not text for text in texts):
        doc.errors.append(ContentError(doc.path, section.line, _l("one of %(what)s is empty", what=name)))
    return texts


def _step(doc: Document, section: _Section) -> StepSpec | None:
    before = len(doc.errors)
    parts = section.parts
    if len(section.title) > 200:
        doc.errors.append(ContentError(doc.path, section.line, _l("the step title is longer than %(limit)s characters",
                                                                  limit=200)))
    lines = {mood: _joined(parts[mood].text) for mood in MOODS if mood in parts}
    for mood, text in lines.items():
        if not text:
            doc.errors.append(ContentError(doc.path, parts[mood].line, _l("the customer's line is empty")))
    if "calm" not in parts:
        doc.errors.append(ContentError(doc.path, section.line,
                                       _l("the step '%(title)s' needs the customer's calm line: "
                                          "'### 客户（平静）'", title=section.title)))
    good = _joined(parts["good"].text) if "good" in parts else ""
    if not good:
        doc.errors.append(ContentError(doc.path, parts["good"].line if "good" in parts else section.line,
                                       _l("the step '%(title)s' needs '### 好的做法': what a good agent does here",
                                          title=section.title)))
    phrasings: tuple[str, ...] = ()
    if "phrasings" in parts:
        phrasings = _list_items(doc, parts["phrasings"], _l("the model phrasings"))
    if not phrasings:
        doc.errors.append(ContentError(doc.path, parts["phrasings"].line if "phrasings" in parts else section.line,
                                       _l("the step '%(title)s' needs '### 参考话术' with at least one '- ' item",
                                          title=section.title)))
    mistakes = _list_items(doc, parts["mistakes"], _l("the common mistakes")) if "mistakes" in parts else ()
    if len(doc.errors) > before:
        return None
    return StepSpec(section.title, lines, good, phrasings, mistakes)


def _script(doc: Document, fields: Fields) -> ScriptSpec | None:
    title = fields.text("title", required=True, limit=200)
    star_level = fields.whole("star_level", 0, 5)
    minutes = fields.whole("minutes", 1, 60)
    summary = fields.text("summary", limit=500)
    before = len(doc.errors)
    sections = _split_body(doc)
    texts: dict[str, str] = {}
    steps: list[StepSpec] = []
    for section in sections:
        if section.kind in ("persona", "situation"):
            if section.kind in texts:
                doc.errors.append(ContentError(doc.path, section.line, _l("the section '%(heading)s' is given twice",
                                                                          heading=HEADINGS[section.kind])))
            texts[section.kind] = _joined(section.text)
            if not texts[section.kind]:
                doc.errors.append(ContentError(doc.path, section.line, _l("the section '%(heading)s' is empty",
                                                                          heading=HEADINGS[section.kind])))
        elif section.kind == "step":
            step = _step(doc, section)
            if step is not None:
                steps.append(step)
    for kind in ("persona", "situation"):
        if kind not in texts:
            doc.errors.append(ContentError(doc.path, doc.body_line, _l("the script needs a section '%(heading)s'",
                                                                       heading=HEADINGS[kind])))
    step_count = sum(section.kind == "step" for section in sections)
    if step_count == 0:
        doc.errors.append(ContentError(doc.path, doc.body_line, _l("the script needs at least one section "
                                                                   "'## 步骤：<title>'")))
    elif step_count > MAX_STEPS:
        doc.errors.append(ContentError(doc.path, doc.body_line, _l(
            "the script has %(count)s steps; at most %(limit)s", count=step_count, limit=MAX_STEPS)))
    if len(doc.errors) > before or not title:
        return None
    return ScriptSpec(title, star_level, minutes, summary, texts["persona"], texts["situation"], tuple(steps))


def parse_scenario(text: str, path: str, slug: str) -> tuple[ScenarioSpec | None, list[ContentError]]:
    """Parse one scenario file (or the same text typed in the browser). Returns the spec, or None
    and every problem found with its line."""
    doc = parse_document(text, path)
    if doc.errors:
        return None, sorted(doc.errors)
    fields = Fields(doc.meta, doc.error)
    fields.unknown(SCENARIO_KEYS)
    if not SLUG.match(slug or ""):
        doc.errors.append(ContentError(path, 1, _l("the id %(slug)r may hold only lowercase letters, digits and "
                                                   "single hyphens (it is the file name without .md)", slug=slug)))
    rubric = _rubric(doc, fields)
    script = _script(doc, fields)
    if doc.errors or script is None or rubric is None:
        return None, sorted(doc.errors)
    return ScenarioSpec(slug=slug, script=script, rubric=rubric, source_hash=digest(text), source_text=text,
                        path=path), []


def _course_slug(course_file: Path) -> str | None:
    """The course's slug, read leniently: the courses importer reports a broken course.md."""
    try:
        slug = parse_document(course_file.read_text(encoding="utf-8"), str(course_file)).meta.get("slug")
    except (OSError, UnicodeDecodeError):
        return None
    return slug if isinstance(slug, str) and slug else None


def load_scenario_tree(root: Path) -> tuple[list[ScenarioSpec], list[ContentError]]:
    """Parse `<root>/<course-folder>/scenarios/*.md`; errors name paths relative to root's parent."""
    base = root.parent
    specs: list[ScenarioSpec] = []
    errors: list[ContentError] = []
    if not root.is_dir():
        return [], []  # the courses importer reports the missing folder
    seen: dict[str, str] = {}
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        scenario_dir = folder / "scenarios"
        if not scenario_dir.is_dir():
            continue
        course_slug = _course_slug(folder / "course.md")
        for file in sorted(scenario_dir.glob("*.md")):
            shown = str(file.relative_to(base))
            if course_slug is None:
                errors.append(ContentError(shown, 1, _l("the course folder %(folder)s has no readable course id",
                                                        folder=folder.name)))
                continue
            slug = file.name[:-3]
            if slug in seen:
                errors.append(ContentError(shown, 1, _l("the scenario id %(slug)r is also used by %(other)s", slug=slug,
                                                        other=seen[slug])))
                continue
            seen[slug] = shown
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                errors.append(ContentError(shown, file.read_bytes()[: exc.start].count(b"\n") + 1,
                                           _l("the file is not UTF-8 text")))
                continue
            spec, found = parse_scenario(text, shown, slug)
            errors.extend(found)
            if spec is not None:
                specs.append(replace(spec, course_slug=course_slug))
    return specs, sorted(errors)
