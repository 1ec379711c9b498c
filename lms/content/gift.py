"""GIFT, Moodle's text format for questions: import and export.

Read as Moodle's `qformat_gift` reads it. Questions are separated by blank lines; lines starting
with `//` are comments; `$CATEGORY: path` starts a category; `::title::` names a question; the
answers sit in one `{...}` block, with `####` before the general feedback; `\\~ \\= \\# \\{ \\} \\: \\n \\\\`
are escapes; `[markdown]`, `[html]`, `[plain]`, `[moodle]` at the start of a text are format markers.

How GIFT maps onto our types (what does not map is dropped with a warning, or refused):

    {=right ~wrong}, {~%50%a ~%50%b}   single when an answer is marked `=` (Moodle's rule), else multi;
                                       `#feedback` per answer is kept; several `=` answers: any one
                                       earns full marks; a weight not on Moodle's list is warned
    text {~a =b} more text             missing word: the stem shows ____ where the block was
    {T} {F} {TRUE} {FALSE}             truefalse; its two `#feedback`s have no place: dropped, warned
    {=a =%50%b}, {a}                   fill; each answer with its weight (partial credit, as Moodle's
                                       short answer); per-answer feedback is dropped (warned)
    {=x -> y ... = -> z}               matching; `= -> z` (no left side) is a distractor; two items
                                       may share a match
    {#3.14:0.01} {#3..4} {#=1:0 =%50%2:1}  fill with a tolerance; each answer keeps its weight and margin
    {}                                 essay
    ::name::text (no braces)           Moodle's "description" (instruction text): not a question here,
                                       skipped with a warning
    ::name::                           the question's title (any script, never its id); a name equal
                                       to the `[id:...]` is how export names an untitled question
    // [id:...]                        its id (Moodle 3.6+), the only way a file names one: a question
                                       without it gets an id made from its title and whole content, so
                                       two questions never share one by accident
    [moodle] [markdown] [plain] [html] the text's format (default: moodle, Moodle's auto-format)
    $CATEGORY: a/b/c                   the last part, "c", becomes a tag of the questions below it
    // [tag:x]                         a tag (Moodle 3.6+); ours also reads [points:n], [difficulty:n]
                                       and `// guidance: ...` lines (an essay's marking guidance)

`dump_gift` writes exactly this back, so export then import gives the same questions.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable

from lms.content.banks import (BLANK, ParsedBank, Reporter, canonical_number, explicit_key, fill_data,
                               finish_question, finite_float, fraction, percent, snap_weights, unique_key)
from lms.content.moodle_grades import is_moodle_fraction, moodle_percent
from lms.content.errors import _l
from lms.questions.types import FillBlank

# Escaped characters become private-use placeholders while the structure is parsed.
_ESCAPES = {"\\": "\ue000", "~": "\ue001", "=": "\ue002", "#": "\ue003", "{": "\ue004", "}": "\ue005",
            ":": "\ue006"}
_RESTORE = {placeholder: char for char, placeholder in _ESCAPES.items()}
FORMAT_MARKER = re.compile(r"^\s*\[(markdown|html|plain|moodle)\]", re.IGNORECASE)
WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
LOOKS_LIKE_WEIGHT = re.compile(r"^%[^%\s]*%")
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
ID_TOKEN = re.compile(r"\[id:((?:\\]|[^\]])+)\]")
TAG_TOKEN = re.compile(r"\[tag:((?:\\]|[^\]])+)\]")
POINTS_TOKEN = re.compile(r"\[points:([^\]]*)\]")
DIFFICULTY_TOKEN = re.compile(r"\[difficulty:([^\]]*)\]")
GUIDANCE_LINE = re.compile(r"^\s*//\s?guidance:\s?(.*)$")


class _Text:
    """Question text with escapes replaced by placeholders, and the line of every character."""

    def __init__(self, chars: str, lines: list[int]):
        self.chars = chars
        self.lines = lines

    @classmethod
    def protect(cls, source: list[tuple[int, str]]) -> _Text:
        chars: list[str] = []
        lines: list[int] = []
        for position, (number, line) in enumerate(source):
            index = 0
            while index < len(line):
                char = line[index]
                if char == "\\" and index + 1 < len(line):
                    following = line[index + 1]
                    if following in _ESCAPES:
                        chars.append(_ESCAPES[following])
                        lines.append(number)
                        index += 2
                        continue
                    if following == "n":
                        chars.append("\n")
                        lines.append(number)
                        index += 2
                        continue
                chars.append(char)
                lines.append(number)
                index += 1
            if position < len(source) - 1:
                chars.append("\n")
                lines.append(number)
        return cls("".join(chars), lines)

    def line_at(self, index: int) -> int:
        if not self.lines:
            return 1
        return self.lines[min(max(index, 0), len(self.lines) - 1)]


def unescape(text: str) -> str:
    return "".join(_RESTORE.get(char, char) for char in text)


def _plain(text: str) -> str:
    """A piece of text without its format marker, escapes restored, spaces trimmed."""
    return unescape(FORMAT_MARKER.sub("", text, count=1)).strip()


def _format_of(text: str) -> str:
    """The format a question's text names with its marker; Moodle's default is its auto-format."""
    marker = FORMAT_MARKER.match(text)
    return marker.group(1).lower() if marker else "moodle"


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    blocks, current = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            current.append((number, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def parse_gift(text: str, path: str) -> ParsedBank:
    """Every question of a GIFT file, or every problem with its `path:line`."""
    report = Reporter(path)
    result = ParsedBank(path=path)
    current_tag: str | None = None
    seen: dict[str, int] = {}
    for block in _blocks(text.lstrip("\ufeff")):
        comments = [(number, line) for number, line in block if line.strip().startswith("//")]
        content = [(number, line) for number, line in block if not line.strip().startswith("//")]
        if content and content[0][1].strip().startswith("$CATEGORY:"):
            current_tag = category_tag(content[0][1].strip()[len("$CATEGORY:"):])
            content = content[1:]
        if not content:
            continue
        spec = _question(content, comments, current_tag, report)
        if spec is None:
            continue
        if spec.key in seen:  # Moodle names need not be unique; our ids must be
            key = unique_key(spec.key, seen)
            report.warn(spec.line, _l("the id %(id)r is already used on line %(line)s; this question gets %(new)r",
                                      id=spec.key, line=seen[spec.key], new=key))
            spec = replace(spec, key=key)
        seen[spec.key] = spec.line
        result.questions.append(spec)
    result.errors = sorted(report.errors())
    result.warnings = sorted(report.warning_list())
    return result


def category_tag(path: str) -> str | None:
    """`$course$/top/投诉处理/升级` → "升级": the category a question sits in, as a tag."""
    parts = [part.strip() for part in unescape(path).split("/") if part.strip()]
    parts = [part for part in parts if not (part.startswith("$") and part.endswith("$")) and part != "top"]
    return parts[-1][:50] if parts else None


def _question(content: list[tuple[int, str]], comments: list[tuple[int, str]], category_tag: str | None,
              report: Reporter):
    first_line = content[0][0]
    before = report.count
    text = _Text.protect(content)
    chars = text.chars
    start = len(chars) - len(chars.lstrip())
    title = None
    if chars.startswith("::", start):
        end = chars.find("::", start + 2)
        if end < 0:
            report.error(first_line, _l("the title opened with '::' is never closed with '::'"))
            return None
        title = unescape(chars[start + 2:end]).strip()
        start = end + 2
    opening = chars.find("{", start)
    closing = chars.find("}", start)
    if opening < 0:
        if closing >= 0:
            report.error(text.line_at(closing), _l("a '}' without its '{' (write \\} for a brace in the text)"))
        else:
            report.warn(first_line, _l("%(name)s has no answers {…}: Moodle's instruction text ('description') is "
                                       "not a question here and was skipped", name=repr(title) if title else
                                       _l("the text")))
        return None
    if closing < 0 or closing < opening:
        if closing >= 0 and closing < opening:
            report.error(text.line_at(closing), _l("a '}' without its '{' (write \\} for a brace in the text)"))
        else:
            report.error(text.line_at(opening), _l("the '{' on line %(line)s is never closed with '}'",
                                                   line=text.line_at(opening)))
        return None
    nested = chars.find("{", opening + 1)
    if 0 <= nested < closing:
        report.error(text.line_at(nested), _l("a second '{' before the '}' that closes the one on line %(line)s "
                                              "(write \\{ for a brace in the text)", line=text.line_at(opening)))
        return None
    if chars.find("{", closing + 1) >= 0 or chars.find("}", closing + 1) >= 0:
        extra = max(chars.find("{", closing + 1), chars.find("}", closing + 1))
        report.error(text.line_at(extra), _l("only one {…} answer block per question (write \\{ and \\} for "
                                             "braces in the text)"))
        return None

    prefix, after = chars[start:opening], chars[closing + 1:]
    text_format = _format_of(prefix.lstrip())
    stem = FORMAT_MARKER.sub("", prefix.strip(), count=1)
    if after.strip():  # missing word: the blank goes where the answers were
        stem = FORMAT_MARKER.sub("", prefix.lstrip(), count=1) + BLANK + after.rstrip()
    stem = unescape(stem).strip()
    if not stem:
        report.error(first_line, _l("the question has no text before its answers"))
        return None

    answers = chars[opening + 1:closing]
    answers_line = text.line_at(opening)
    explanation = ""
    general = answers.rfind("####")
    if general >= 0:
        explanation = _plain(answers[general + 4:])
        answers = answers[:general]
    offset = opening + 1

    meta = _comment_meta(comments, report)
    stripped = answers.strip()
    if not stripped:
        kind, data = "essay", {"guidance": meta["guidance"]}
    elif stripped.startswith("#"):
        kind, data = "fill", _numeric(answers, offset, text, report)
    elif "~" in answers:
        kind, data = _choice(answers, offset, text, report)
    elif "=" in answers and "->" in answers:
        kind, data = "matching", _matching(answers, offset, text, report)
    elif stripped.split("#", 1)[0].strip() in TRUE_FALSE:
        parts = stripped.split("#")
        if any(_plain(part) for part in parts[1:]):
            report.warn(answers_line, _l("true/false feedback has no place here and was dropped; the general "
                                         "feedback (####) is kept as the explanation"))
        kind, data = "truefalse", {"answer": TRUE_FALSE[parts[0].strip()]}
    else:
        kind, data = "fill", _short_answer(answers, offset, text, report)
    if report.count > before or data is None:
        return None
    if meta["guidance"] and kind != "essay":
        report.warn(first_line, _l("'guidance' belongs to essays; dropped"))
    tags = ([category_tag] if category_tag else []) + meta["tags"]
    if title and title == meta["id"]:
        title = ""  # the name our export gives an untitled question
    return finish_question(report, first_line, key=explicit_key(meta["id"] or ""), kind=kind, stem=stem,
                           data=data, tags=tags, difficulty=meta["difficulty"], points=meta["points"],
                           explanation=explanation, title=title or "", text_format=text_format)


def _comment_meta(comments: list[tuple[int, str]], report: Reporter) -> dict:
    meta = {"id": None, "tags": [], "points": 1.0, "difficulty": None, "guidance": ""}
    guidance = []
    for number, line in comments:
        match = GUIDANCE_LINE.match(line)
        if match:
            guidance.append(match.group(1).rstrip())
            continue
        found = ID_TOKEN.search(line)
        if found and meta["id"] is None:
            meta["id"] = found.group(1).replace("\\]", "]").strip()
        meta["tags"] += [tag.replace("\\]", "]").strip() for tag in TAG_TOKEN.findall(line) if tag.strip()]
        points = POINTS_TOKEN.search(line)
        if points:
            value = finite_float(points.group(1))
            if value is None or not 0 < value <= 1000:
                report.error(number, _l("[points:%(value)s] must be a number above 0 and at most 1000",
                                        value=points.group(1)))
            else:
                meta["points"] = value
        difficulty = DIFFICULTY_TOKEN.search(line)
        if difficulty:
            value = finite_float(difficulty.group(1))
            if value is None or not value.is_integer() or not 1 <= value <= 5:
                report.error(number, _l("[difficulty:%(value)s] must be a whole number from 1 to 5",
                                        value=difficulty.group(1)))
            else:
                meta["difficulty"] = int(value)
    meta["guidance"] = "\n".join(guidance).strip()
    return meta


def _split(answers: str, markers: str, offset: int) -> list[tuple[str, str, int]]:
    """(marker, text, index of the marker) for each answer; text before the first marker comes
    with marker "" (Moodle reads it as an answer too)."""
    pieces = []
    current_marker, current_start, index_start = "", 0, offset
    for index, char in enumerate(answers):
        if char in markers:
            pieces.append((current_marker, answers[current_start:index], index_start))
            current_marker, current_start, index_start = char, index + 1, offset + index
    pieces.append((current_marker, answers[current_start:], index_start))
    return [piece for piece in pieces if piece[0] or piece[1].strip()]


def _weight(body: str, line: int, report: Reporter) -> tuple[float | None, str]:
    body = body.lstrip()
    match = WEIGHT.match(body)
    if match:
        return fraction(float(match.group(1))), body[match.end():]
    if LOOKS_LIKE_WEIGHT.match(body):
        report.error(line, _l("the weight %(weight)s is not a percent like %%50%% or %%-25%%",
                              weight=LOOKS_LIKE_WEIGHT.match(body).group(0)))
    return None, body


def _choice(answers: str, offset: int, text: _Text, report: Reporter):
    options = []
    for marker, body, index in _split(answers, "~=", offset):
        line = text.line_at(index)
        weight, body = _weight(body, line, report)
        if weight is None:
            weight = 1.0 if marker == "=" else 0.0
        answer, _hash, feedback = body.partition("#")
        answer = _plain(answer)
        if not answer:
            report.error(line, _l("an empty answer"))
            continue
        _warn_off_moodle_list(weight, answer, line, report)
        options.append({"id": f"o{len(options) + 1}", "text": answer, "weight": weight,
                        "feedback": _plain(feedback)})
    kind = "single" if "=" in answers else "multi"  # Moodle: several may be ticked when none is marked '='
    weights = snap_weights(kind, [option["weight"] for option in options])
    for option, weight in zip(options, weights):
        option["weight"] = weight
    return kind, {"options": options}


def _warn_off_moodle_list(weight: float, answer, line: int, report: Reporter) -> None:
    if not is_moodle_fraction(weight):
        report.warn(line, _l("the answer %(answer)s is worth %(percent)s%%, a grade Moodle does not offer: it is "
                             "kept here, and exporting writes the nearest one Moodle accepts (%(nearest)s%%)",
                             answer=repr(answer) if isinstance(answer, str) else answer, percent=percent(weight),
                             nearest=moodle_percent(weight)))


def _usable_weight(weight: float | None, answer, line: int, report: Reporter) -> float | None:
    """A fill answer's weight (100% when none is written); None, with a warning, for an answer that
    earns nothing: in Moodle it only carries feedback."""
    if weight is None:
        return 1.0
    if weight <= 0:
        report.warn(line, _l("the answer %(answer)s is worth %(percent)s%%: it earns nothing, so it was dropped",
                             answer=repr(answer) if isinstance(answer, str) else answer, percent=percent(weight)))
        return None
    _warn_off_moodle_list(weight, answer, line, report)
    return min(weight, 1.0)


def _short_answer(answers: str, offset: int, text: _Text, report: Reporter) -> dict | None:
    accepted, weights = [], []
    for _marker, body, index in _split(answers, "=", offset):
        line = text.line_at(index)
        weight, body = _weight(body, line, report)
        answer, _hash, feedback = body.partition("#")
        answer = _plain(answer)
        if not answer:
            report.error(line, _l("an empty answer"))
            continue
        weight = _usable_weight(weight, answer, line, report)
        if weight is None:
            continue
        if _plain(feedback):
            report.warn(line, _l("feedback on a fill-in answer has no place here and was dropped"))
        accepted.append(answer)
        weights.append(weight)
    if 1.0 not in weights:
        report.error(text.line_at(offset), _l("no answer earns full marks"))
        return None
    return fill_data(accepted, weights)


def _numeric(answers: str, offset: int, text: _Text, report: Reporter) -> dict | None:
    hash_at = answers.index("#")
    body = answers[hash_at + 1:]
    start = offset + hash_at + 1
    wrong_feedback = body.find("~")
    if wrong_feedback >= 0:
        if _plain(body[wrong_feedback + 1:].lstrip("#")):
            report.warn(text.line_at(start + wrong_feedback), _l("feedback for wrong numbers has no place here and "
                                                                 "was dropped"))
        body = body[:wrong_feedback]
    values, tolerances, weights = [], [], []
    for _marker, piece, index in _split(body, "=", start):
        line = text.line_at(index)
        weight, piece = _weight(piece, line, report)
        value, _hash, feedback = piece.partition("#")
        value = unescape(value).strip()
        if ".." in value:
            low, high = (finite_float(part) for part in value.split("..", 1))
            if low is None or high is None or low > high:
                report.error(line, _l("%(value)r is not a range like 3..4", value=value))
                continue
            number, tolerance = (low + high) / 2, (high - low) / 2
        elif ":" in value:
            number, tolerance = (finite_float(part) for part in value.split(":", 1))
            if number is None or tolerance is None or tolerance < 0:
                report.error(line, _l("%(value)r is not a number with its margin, like 3.14:0.01", value=value))
                continue
        else:
            number, tolerance = finite_float(value), 0.0
            if number is None:
                report.error(line, _l("%(value)r is not a number", value=value))
                continue
        weight = _usable_weight(weight, value, line, report)
        if weight is None:
            continue
        if _plain(feedback):
            report.warn(line, _l("feedback on a numeric answer has no place here and was dropped"))
        values.append(canonical_number(round(number, 10)))
        tolerances.append(canonical_number(round(tolerance, 10)))
        weights.append(weight)
    if 1.0 not in weights:
        report.error(text.line_at(offset), _l("no numeric answer earns full marks"))
        return None
    return fill_data(values, weights, tolerances)


def _matching(answers: str, offset: int, text: _Text, report: Reporter) -> dict | None:
    pairs, distractors = [], []
    for _marker, body, index in _split(answers, "=", offset):
        line = text.line_at(index)
        if "->" not in body:
            report.error(line, _l("a matching answer looks like '=item -> match'"))
            continue
        left, right = body.split("->", 1)
        left, right = _plain(left), _plain(right)
        if not right:
            report.error(line, _l("a matching answer needs something after '->'"))
        elif not left:
            distractors.append({"id": f"d{len(distractors) + 1}", "text": right})
        else:
            pairs.append({"id": f"p{len(pairs) + 1}", "left": left, "right": right})
    return {"pairs": pairs, "distractors": distractors}


# --- Export ----------------------------------------------------------------------------------------

def escape(text: str) -> str:
    """Text as GIFT writes it: reserved characters escaped, new lines as \\n (one question, one block)."""
    text = text.replace("\r", "").replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _number(value) -> str:
    return repr(canonical_number(value)) if isinstance(canonical_number(value), float) else str(int(value))


def _comment(spec) -> list[str]:
    tokens = [f"[id:{spec.key}]"] + [f"[tag:{tag.replace(']', chr(92) + ']')}]" for tag in spec.tags]
    if spec.points != 1:
        tokens.append(f"[points:{_number(spec.points)}]")
    if spec.difficulty is not None:
        tokens.append(f"[difficulty:{spec.difficulty}]")
    lines = ["// " + " ".join(tokens)]
    if spec.type == "essay" and spec.data.get("guidance"):
        lines += [f"// guidance: {line}".rstrip() for line in spec.data["guidance"].splitlines()]
    return lines


def _answers(spec) -> list[str]:
    data = spec.data
    if spec.type in ("single", "multi"):
        lines = []
        for option in data["options"]:
            weight = option.get("weight", 0.0)
            if spec.type == "single" and weight == 1.0:
                marker = "="
            elif weight == 0:
                marker = "~"
            else:
                marker = f"~%{moodle_percent(weight)}%"  # only grades Moodle accepts
            feedback = f"#{escape(option['feedback'])}" if option.get("feedback") else ""
            lines.append(f"\t{marker}{escape(option['text'])}{feedback}")
        return lines
    if spec.type == "truefalse":
        return ["TRUE" if data["answer"] else "FALSE"]
    if spec.type == "fill":
        accepted = FillBlank.accepted(data)
        if "tolerance" in data:
            if len(accepted) == 1:
                return [f"#{_number(data['answers'][0])}:{_number(data['tolerance'])}"]
            return ["#"] + [f"\t={_grade(weight)}{_number(answer)}:{_number(margin)}"
                            for answer, weight, margin in accepted]
        return [f"\t={_grade(weight)}{escape(answer)}" for answer, weight, _margin in accepted]
    if spec.type == "matching":
        return ([f"\t={escape(pair['left'])} -> {escape(pair['right'])}" for pair in data["pairs"]]
                + [f"\t= -> {escape(item['text'])}" for item in data.get("distractors", [])])
    return []


def _grade(weight: float) -> str:
    return "" if weight == 1 else f"%{moodle_percent(weight)}%"


def dump_question(spec) -> str:
    """One question: a comment with its id and tags, then `::title::[format]stem{answers####explanation}`.
    Choice, fill-in and matching answers go one per line, as Moodle writes them."""
    answers = _answers(spec)
    general = f"####{escape(spec.explanation)}" if spec.explanation else ""
    # Moodle wants a name: an untitled question is named by its id, which reads back as no title.
    head = f"::{escape(spec.title or spec.key)}::[{spec.text_format}]{escape(spec.stem)}"
    if len(answers) <= 1 and not (answers and answers[0].startswith("\t")):
        block = [f"{head}{{{''.join(answers)}{general}}}"]  # {TRUE}, {#3.5:0.5}, {}
    else:
        opening, lines = ("", answers) if answers[0].startswith("\t") else (answers[0], answers[1:])
        block = [f"{head}{{{opening}"] + lines + ([f"\t{general}"] if general else []) + ["}"]
    return "\n".join(_comment(spec) + block)


def dump_gift(questions: Iterable, *, title: str = "") -> str:
    """Questions as a GIFT file that Moodle imports and `parse_gift` reads back to the same questions."""
    parts = []
    if title:
        parts.append(f"// {title.splitlines()[0] if title.strip() else ''}".rstrip())
    parts += [dump_question(spec) for spec in questions]
    return "\n\n".join(parts) + "\n"
