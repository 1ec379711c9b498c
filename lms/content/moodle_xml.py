"""Moodle XML, the format Moodle exports question banks in: reading it (writing it:
lms/content/moodle_xml_writer.py).

Read as Moodle's `qformat_xml` reads it (docs.moodle.org, "Moodle XML format"):

    <quiz>
      <question type="category"><category><text>$course$/top/投诉处理</text></category></question>
      <question type="multichoice">
        <name><text>首问负责</text></name>
        <questiontext format="html"><text><![CDATA[<p>客户第三次来电……</p>]]></text></questiontext>
        <generalfeedback format="html"><text>…</text></generalfeedback>
        <defaultgrade>1</defaultgrade> <penalty>0.3333333</penalty> <hidden>0</hidden>
        <idnumber>CH-001</idnumber>
        <single>true</single>
        <answer fraction="100" format="html"><text>…</text><feedback><text>…</text></feedback></answer>
        <tags><tag><text>流程</text></tag></tags>
      </question>
    </quiz>

How Moodle's types map onto ours (what has no place here is dropped with a warning; only what
cannot make a question is refused):

    multichoice     single (<single>true</single>) or multi: each answer an option, its grade the weight,
                    its feedback kept; answers are plain text here (HTML markup removed)
    truefalse       truefalse; the two answers' feedback is dropped
    shortanswer     fill: the answers worth more than 0%, each with its grade; `\\*` is a literal *
    numerical       fill with numbers, each with its own tolerance; units and "*" are dropped
    matching        matching; a subquestion without text is an extra wrong match (distractor)
    essay           essay; the information for graders is the marking guidance
    description     skipped: instruction text is not a question here (warned)
    anything else   cloze, calculated, drag and drop, ordering, random...: skipped (warned)
    category        its last part becomes a tag of the questions below it (as in GIFT)
    name, idnumber  the title; the id (`explicit_key`), or without one an id made from title and content
    tags            tags; a tag `difficulty:N` is the difficulty (our export writes it so)
    defaultgrade    points; penalties, hints, combined feedback and embedded files are dropped (warned)

The file is read with defusedxml: a DTD or entity declaration refuses it, nothing is ever fetched.
`dump_moodle_xml` (lms/content/moodle_xml_writer.py) writes our questions so that Moodle imports them
and `parse_moodle_xml` reads back the same questions.
"""
from __future__ import annotations

import codecs
import html
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Iterable
from urllib.parse import unquote

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from lms.content.banks import (MAX_KEY, MAX_POINTS, MAX_TAG, MAX_TEXT, ParsedBank, QuestionSpec, Reporter,
                               canonical_number, explicit_key, fill_data, finish_question, finite_float,
                               fraction, percent, snap_weights)
from lms.content.gift import category_tag
from lms.content.moodle_grades import is_moodle_fraction, moodle_percent
from lms.content.errors import _l, ngettext

# Moodle's names of text formats, and ours (lms.content.banks.TEXT_FORMATS).
FORMATS = {"html": "html", "moodle_auto_format": "moodle", "plain_text": "plain", "markdown": "markdown"}
MOODLE_FORMATS = {ours: theirs for theirs, ours in FORMATS.items()}
MAX_ANSWER = 2000  # an option, an answer, a matching item or a feedback, as in the native format
MAX_DEPTH = 40  # Moodle's files nest 6 levels deep; a deeper file is not one of them
# Markup that only formats a line or a paragraph: removing it loses nothing worth a warning.
KEPT_MARKUP = {"p", "br", "span", "div", "b", "strong", "i", "em", "u"}
BLOCK_ENDS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
# What Moodle's question form fills in by itself: nothing is lost when these are dropped.
DEFAULT_COMBINED_FEEDBACK = {"", "Your answer is correct.", "Your answer is partially correct.",
                             "Your answer is incorrect."}

_DECLARATION = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]*)["']""")
# Each pattern stops at the next "<", "[" or line (a comment at its end): none is slower than linear.
_TAG = re.compile(r"<!--.*?(?:-->|$)|<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>", re.DOTALL)
_INVISIBLE = re.compile(r"<(script|style)\b", re.IGNORECASE)
_NBSP = re.compile(r"&(?:nbsp|#160|#x0*a0);", re.IGNORECASE)
_PLUGINFILE = re.compile(r"@@PLUGINFILE@@/([^\"'\s<>()]+)")
_PLUGIN_IMG = re.compile(r"<img\b[^<>]*@@PLUGINFILE@@[^<>]*>", re.IGNORECASE)
_PLUGIN_MD_IMG = re.compile(r"!\[[^\[\]\n]*\]\(@@PLUGINFILE@@[^()\n]*\)")
_WILDCARD = re.compile(r"(?<!\\)\*+")  # Moodle's short answer: * matches anything, \* is a star
_DIFFICULTY_TAG = re.compile(r"^difficulty:([1-5])$")


# --- Reading the XML safely, with the line of every element ----------------------------------------

class _TooDeep(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


class _LineBuilder(ET.TreeBuilder):
    """A tree builder that notes the line each element starts on (by id: C elements take no attributes)."""

    def __init__(self):
        super().__init__()
        self.lines: dict[int, int] = {}
        self.expat = None
        self.depth = 0

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        line = self.expat.CurrentLineNumber if self.expat is not None else 0
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep(line)
        self.lines[id(element)] = line
        return element

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)


def _decode(data: bytes, report: Reporter) -> str | None:
    """The file as text: a byte order mark, else the XML declaration's encoding, else UTF-8."""
    declared = None
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = declared = "UTF-16"
    else:
        match = _DECLARATION.match(data)
        declared = match.group(1).decode("ascii") if match else None
        encoding = declared or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            report.error(1, _l("the file names the encoding %(encoding)r, which is unknown", encoding=declared))
            return None
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1 if encoding != "UTF-16" else \
            data[:exc.start - exc.start % 2].decode(encoding, errors="replace").count("\n") + 1
        if declared:
            report.error(line, _l("the file is not %(encoding)s text, as its XML declaration says",
                                  encoding=declared))
        else:
            report.error(line, _l("the file is not UTF-8 text; a Moodle XML file is UTF-8 unless its first line "
                                  "names another encoding"))
    except (LookupError, ValueError, TypeError):  # a codec that is no text encoding, like "zlib" or "rot13"
        report.error(1, _l("the file names the encoding %(encoding)r, which is unknown", encoding=declared))
    return None


# What expat says, in words a trainer can act on, in the reader's language; others are shown as expat words them.
XML_PROBLEMS = {
    "mismatched tag": _l("a closing tag does not match the element it closes"),
    "not well-formed (invalid token)": _l("a character XML does not allow here (write & as &amp; and < as &lt; in "
                                          "text)"),
    "unclosed token": _l("a tag or a comment is not closed"),
    "no element found": _l("the file ends before its elements are closed"),
    "junk after document element": _l("more text follows the end of the main element"),
    "syntax error": _l("the text is not XML"),
    "undefined entity": _l("an entity XML does not know (write & as &amp; in text)"),
    "duplicate attribute": _l("an attribute is given twice"),
    "unbound prefix": _l("a tag uses a namespace prefix that is not declared"),
    "XML or text declaration not at start of entity": _l("the XML declaration is not at the very start of the file"),
}


def _read_tree(data: bytes, report: Reporter):
    """The root element and each element's line, or (None, {}) with the problem reported."""
    text = _decode(data, report)
    if text is None:
        return None, {}
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(text)
        root = parser.close()
    except DefusedXmlException:
        report.error(parser.parser.CurrentLineNumber or 1,
                     _l("the file declares a DTD or entities (<!DOCTYPE …>), which Moodle's files never do; it was "
                        "not read"))
        return None, {}
    except _TooDeep as problem:
        report.error(problem.line or 1, _l("the XML is nested more than %(limit)s levels deep; Moodle's files never "
                                           "are", limit=MAX_DEPTH))
        return None, {}
    except ParseError as problem:
        line = problem.position[0] if getattr(problem, "position", None) else 1
        message = re.sub(r":\s*line \d+, column \d+$", "", str(problem))
        report.error(line or 1, _l("the file is not well-formed XML: %(problem)s",
                                   problem=XML_PROBLEMS.get(message, message)))
        return None, {}
    except ValueError as problem:  # what expat refuses before parsing (an odd declaration)
        report.error(1, _l("the file is not well-formed XML: %(problem)s", problem=str(problem)))
        return None, {}
    return root, builder.lines


# --- Texts ------------------------------------------------------------------------------------------

def html_to_plain(text: str, *, source_breaks: bool = False) -> tuple[str, set[str]]:
    """HTML as the plain text it shows, and the names of the tags whose effect was lost.

    `<br>` and the end of a paragraph are new lines; other tags go; entities are decoded. In HTML a
    line break in the source is a space; `source_breaks` keeps it (Moodle's auto-format). Spaces
    around line breaks go, except written as entities (how `plain_to_html` keeps them)."""
    lost: set[str] = set()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not source_breaks:
        text = _join_lines(text, " ")

    def tag(match: re.Match) -> str:
        if match.group(2) is None:  # a comment
            return ""
        name = match.group(2).lower()
        if name not in KEPT_MARKUP and not (name == "img" and "@@PLUGINFILE@@" in match.group(0)):
            lost.add(name)  # an embedded image is reported with its file instead
        if name == "br" or (match.group(1) and name in BLOCK_ENDS):
            return "\n"
        return ""

    text = _TAG.sub(tag, _without_invisible(text, lost))
    text = _NBSP.sub(" ", text)
    return html.unescape(_join_lines(text, "\n")).strip(), lost


def _join_lines(text: str, joiner: str) -> str:
    """The lines of `text` joined with `joiner`, without the spaces and tabs around each line break."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return joiner.join([lines[0].rstrip(" \t")] + [line.strip(" \t") for line in lines[1:-1]]
                       + [lines[-1].lstrip(" \t")])


def _without_invisible(text: str, lost: set[str]) -> str:
    """Without <script> and <style> elements, content included (it is not text a person reads)."""
    lower = text.lower()
    kept, position = [], 0
    while (match := _INVISIBLE.search(text, position)) is not None:
        name = match.group(1).lower()
        lost.add(name)
        kept.append(text[position:match.start()])
        end = lower.find(f"</{name}", match.end())
        close = lower.find(">", end) if end >= 0 else -1
        position = close + 1 if close >= 0 else len(text)
    kept.append(text[position:])
    return "".join(kept)


def plain_to_html(text: str) -> str:
    """Plain text as HTML that `html_to_plain` reads back exactly: escaped, new lines as <br>, and
    spaces at the start or end of a line as entities."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        escaped = html.escape(line, quote=False)
        core = escaped.strip(" \t")
        if not core:
            lines.append("".join(f"&#{ord(char)};" for char in escaped))
            continue
        start = escaped.index(core)
        lead, trail = escaped[:start], escaped[start + len(core):]
        lines.append("".join(f"&#{ord(c)};" for c in lead) + core + "".join(f"&#{ord(c)};" for c in trail))
    return "<br>".join(lines)


def _names(names: Iterable[str], limit: int = 5) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (", …" if len(names) > limit else "")


def _excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


class _Question:
    """One <question> element being read: its problems all name the line where it starts."""

    def __init__(self, element, line: int, report: Reporter):
        self.element = element
        self.line = line
        self.report = report
        self.format = "html"  # Moodle's name of the question text's format: the default of its other texts
        self.lost: set[str] = set()

    def warn(self, message: str) -> None:
        self.report.warn(self.line, message)

    def error(self, message: str) -> None:
        self.report.error(self.line, message)

    def text(self, holder, *, quiet: bool = False) -> str:
        """The <text> inside `holder`, trimmed as Moodle trims it; "" when there is none (or, `quiet`,
        when it is not text)."""
        if holder is None:
            return ""
        node = holder.find("text")
        if node is None:
            return ""
        if len(node):
            if quiet:
                return ""
            self.error(_l("<%(element)s> holds XML elements in its <text>: Moodle writes HTML there escaped or "
                          "inside <![CDATA[…]]>", element=holder.tag))
            return ""
        return (node.text or "").strip()

    def plain(self, holder, limit: int = MAX_ANSWER) -> str:
        """The text inside `holder` as plain text, read in its format (by default the question's)."""
        raw = self.text(holder)
        if len(raw) > MAX_TEXT:  # too long to be worth reading, whatever its markup
            self.limit(raw, limit)
            return ""
        text_format = ((holder.get("format") if holder is not None else None) or self.format).strip()
        if text_format in ("plain_text", "markdown"):
            text = raw
        else:  # html, Moodle's auto-format, and what Moodle reads as html (anything unknown)
            text, lost = html_to_plain(raw, source_breaks=text_format == "moodle_auto_format")
            self.lost |= lost
        self.limit(text, limit)
        return text

    def limit(self, text: str, limit: int = MAX_ANSWER) -> None:
        if len(text) > limit:
            self.error(_l("a text of this question is longer than %(limit)s characters (%(start)s)", limit=limit,
                          start=_excerpt(text)))

    def grade(self, answer) -> float | None:
        """An answer's grade, a percent (Moodle's default 0); None, with an error, when it is no number."""
        raw = (answer.get("fraction") or "0").strip()
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.error(_l("the grade (fraction) %(value)r of an answer is not a number", value=raw))
            return None
        return value

    def off_list(self, answer: str, weight: float) -> None:
        if not is_moodle_fraction(weight):
            self.warn(_l("the answer %(answer)s is worth %(percent)s%%, a grade Moodle does not offer: it is kept "
                         "here, and exporting writes the nearest one Moodle accepts (%(nearest)s%%)",
                         answer=repr(answer), percent=percent(weight), nearest=moodle_percent(weight)))

    def dropped_answer(self, answer: str, weight: float) -> None:
        self.warn(_l("the answer %(answer)s is worth %(percent)s%%: it earns nothing, so it was dropped",
                     answer=repr(answer), percent=percent(weight)))

    def feedback_of(self, answer) -> str:
        return self.plain(answer.find("feedback"))

    def finish_markup(self) -> None:
        if self.lost:
            self.warn(_l("answers, items and feedback are plain text here; their %(tags)s markup was removed",
                         tags=_names(f"<{name}>" for name in sorted(self.lost))))


def _flag(value: str | None, default: bool) -> bool:
    """Moodle's reading of a yes/no field: "false", "0" and "" are no, anything else yes."""
    if value is None:
        return default
    value = value.strip()
    return not (value == "false" or value in ("", "0"))


def _category_tag(path: str) -> str | None:
    """A category path's last part; Moodle writes a "/" inside a name as "//"."""
    placeholder = "\ue010"
    tag = category_tag(path.replace("//", placeholder))
    return tag.replace(placeholder, "/") if tag else None


# --- Question types ---------------------------------------------------------------------------------

def _multichoice(q: _Question):
    kind = "single" if _flag(q.element.findtext("single"), True) else "multi"
    options = []
    for answer in q.element.findall("answer"):
        grade = q.grade(answer)
        text = q.plain(answer)
        feedback = q.feedback_of(answer)
        if not text or grade is None:  # Moodle leaves out an answer without text
            continue
        weight = fraction(grade)
        q.off_list(text, weight)
        options.append({"id": f"o{len(options) + 1}", "text": text, "weight": weight, "feedback": feedback})
    _combined_feedback(q)
    for option, weight in zip(options, snap_weights(kind, [option["weight"] for option in options])):
        option["weight"] = weight
    return kind, {"options": options}


def _combined_feedback(q: _Question) -> None:
    texts = [q.plain(q.element.find(name), MAX_TEXT)
             for name in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback")]
    if any(text not in DEFAULT_COMBINED_FEEDBACK for text in texts):
        q.warn(_l("the feedback for correct, partially correct and incorrect answers has no place here and was "
                  "dropped"))


def _truefalse(q: _Question):
    answer = None
    feedback = False
    for position, element in enumerate(q.element.findall("answer")):
        text = q.text(element).lower()
        if text not in ("true", "false"):  # Moodle: an old file has true first, then false
            text = "true" if position == 0 else "false"
        grade = q.grade(element)
        if grade is None:
            return "truefalse", None
        answer = grade == 100 if text == "true" else grade != 100
        feedback = feedback or bool(q.feedback_of(element))
    if answer is None:
        q.error(_l("a true/false question needs its two answers, true and false"))
        return "truefalse", None
    if feedback:
        q.warn(_l("the feedback on the true and false answers has no place here and was dropped; the general "
                  "feedback is kept as the explanation"))
    return "truefalse", {"answer": answer}


def _shortanswer(q: _Question):
    answers, weights = [], []
    feedback = False
    before = q.report.count
    for element in q.element.findall("answer"):
        raw = q.text(element)
        grade = q.grade(element)
        if not raw or grade is None:
            continue
        q.limit(raw)
        if not _WILDCARD.sub("", raw).strip():
            q.warn(_l("the answer %(answer)r (any other answer) has no place here and was dropped", answer=raw))
            continue
        if _WILDCARD.search(raw):
            q.warn(_l("the answer %(answer)r uses * as a wildcard; here it is matched literally", answer=raw))
        text = raw.replace("\\*", "*")
        weight = fraction(grade)
        if weight <= 0:
            q.dropped_answer(text, weight)
            continue
        q.off_list(text, weight)
        feedback = feedback or bool(q.feedback_of(element))
        answers.append(text)
        weights.append(weight)
    if _flag(q.element.findtext("usecase"), False):
        q.warn(_l("answers here are matched ignoring case and full-width or half-width forms; the question's "
                  "case sensitivity was dropped"))
    if feedback:
        q.warn(_l("feedback on a fill-in answer has no place here and was dropped"))
    if not any(math.isclose(weight, 1.0) for weight in weights):
        if q.report.count == before:  # else its answers' own problems say why
            q.error(_l("no answer earns full marks"))
        return "fill", None
    return "fill", fill_data(answers, weights)


def _numerical(q: _Question):
    numbers, margins, weights = [], [], []
    feedback = False
    before = q.report.count
    for element in q.element.findall("answer"):
        raw = q.text(element)
        grade = q.grade(element)
        if not raw or grade is None:
            continue
        if raw == "*":
            q.warn(_l("the answer %(answer)r (any other answer) has no place here and was dropped", answer=raw))
            continue
        number = finite_float(raw)
        if number is None:
            q.error(_l("%(value)r is not a number", value=_excerpt(raw)))
            continue
        tolerance_text = (element.findtext("tolerance") or "0").strip() or "0"
        tolerance = finite_float(tolerance_text)
        if tolerance is None or tolerance < 0:
            q.error(_l("the tolerance %(value)r must be a number of at least 0", value=_excerpt(tolerance_text)))
            continue
        weight = fraction(grade)
        if weight <= 0:
            q.dropped_answer(raw, weight)
            continue
        q.off_list(raw, weight)
        feedback = feedback or bool(q.feedback_of(element))
        numbers.append(canonical_number(round(number, 10)))
        margins.append(canonical_number(round(tolerance, 10)))
        weights.append(weight)
    units = [(unit.findtext("unit_name") or "").strip() for unit in q.element.findall("units/unit")]
    if any(units):
        q.warn(_l("units (%(units)s) have no place here and were dropped: answers are plain numbers",
                  units=_names(unit for unit in units if unit)))
    if feedback:
        q.warn(_l("feedback on a numeric answer has no place here and was dropped"))
    if not any(math.isclose(weight, 1.0) for weight in weights):
        if q.report.count == before:
            q.error(_l("no numeric answer earns full marks"))
        return "fill", None
    return "fill", fill_data(numbers, weights, margins)


def _matching(q: _Question):
    pairs, distractors = [], []
    for element in q.element.findall("subquestion"):
        left = q.plain(element)
        right = q.text(element.find("answer"))
        q.limit(right)
        if not right:
            if left:
                q.warn(_l("the item %(item)r has no match and was dropped", item=_excerpt(left)))
            continue
        if left:
            pairs.append({"id": f"p{len(pairs) + 1}", "left": left, "right": right})
        else:
            distractors.append(right)
    _combined_feedback(q)
    rights = {pair["right"] for pair in pairs}
    # Moodle shows each distinct match once: a repeated extra match is the same choice.
    distractors = [text for text in dict.fromkeys(distractors) if text not in rights]
    return "matching", {"pairs": pairs, "distractors": [{"id": f"d{index}", "text": text}
                                                        for index, text in enumerate(distractors, start=1)]}


def _essay(q: _Question):
    return "essay", {"guidance": q.plain(q.element.find("graderinfo"), MAX_TEXT)}


READERS = {"multichoice": _multichoice, "truefalse": _truefalse, "shortanswer": _shortanswer,
           "numerical": _numerical, "matching": _matching, "match": _matching, "essay": _essay}


# --- A file -----------------------------------------------------------------------------------------

class _File:
    """What runs across a file's questions: the category, penalties, the ids used."""

    def __init__(self):
        self.category: str | None = None
        self.penalties = 0
        self.first_penalty = 0
        self.seen: dict[str, int] = {}


def parse_moodle_xml(data: bytes, path: str) -> ParsedBank:
    """Every question of a Moodle XML file, or every problem with its `path:line`."""
    report = Reporter(path)
    result = ParsedBank(path=path)
    root, lines = _read_tree(data, report)
    if root is not None and root.tag != "quiz":
        report.error(lines.get(id(root), 1), _l("the file's main element is <%(tag)s>; a Moodle XML file has <quiz> "
                                                "around its questions", tag=root.tag))
        root = None
    state = _File()
    for element in root if root is not None else ():
        if element.tag != "question":  # Moodle reads only <question> elements
            continue
        spec = _question(element, lines.get(id(element), 1), report, state)
        if spec is None:
            continue
        if spec.key in state.seen:  # Moodle's names need not be unique, and an idnumber only in its category
            key = _unique(spec.key, state.seen)
            report.warn(spec.line, _l("the id %(id)r is already used on line %(line)s; this question gets %(new)r",
                                      id=spec.key, line=state.seen[spec.key], new=key))
            spec = replace(spec, key=key)
        state.seen[spec.key] = spec.line
        result.questions.append(spec)
    if state.penalties:
        report.warn(state.first_penalty, ngettext("penalties for retries do not apply here and were ignored; "
                                                  "%(num)s question had one", "penalties for retries do not apply "
                                                  "here and were ignored; %(num)s questions had one", state.penalties))
    result.errors = sorted(report.errors())
    result.warnings = sorted(report.warning_list())
    return result


def _unique(key: str, seen: dict[str, int]) -> str:
    number = 2
    while f"{key[:MAX_KEY - 4]}-{number}" in seen:
        number += 1
    return f"{key[:MAX_KEY - 4]}-{number}"


def _question(element, line: int, report: Reporter, state: _File) -> QuestionSpec | None:
    q = _Question(element, line, report)
    moodle_type = (element.get("type") or "").strip()
    if moodle_type == "category":
        path = q.text(element.find("category"), quiet=True) or (element.findtext("category") or "").strip()
        state.category = _category_tag(path)
        return None
    title = " ".join(q.text(element.find("name"), quiet=moodle_type not in READERS).split())
    if moodle_type not in READERS:  # never an error: the rest of the file is imported
        shown = title or _excerpt(html_to_plain(q.text(element.find("questiontext"), quiet=True))[0]) or "—"
        if moodle_type == "description":
            q.warn(_l("instruction text %(title)r was skipped: it is not a question", title=shown))
        else:
            q.warn(_l("the %(type)s question %(title)r was skipped: this type cannot be imported here",
                      type=moodle_type or "?", title=shown))
        return None
    before = report.count

    stem_holder = element.find("questiontext")
    moodle_format = ((stem_holder.get("format") if stem_holder is not None else None) or "html").strip()
    if moodle_format not in FORMATS:
        q.warn(_l("the text format %(format)r is unknown here; the question text is read as HTML",
                  format=moodle_format))
        moodle_format = "html"
    q.format = moodle_format
    text_format = FORMATS[moodle_format]
    stem = q.text(stem_holder)
    feedback_holder = element.find("generalfeedback")
    explanation = q.text(feedback_holder)
    feedback_format = ((feedback_holder.get("format") if feedback_holder is not None else None)
                       or moodle_format).strip()
    if explanation and feedback_format != moodle_format:
        q.warn(_l("the general feedback is written as %(feedback)s, but it is shown in the question's format "
                  "(%(format)s)", feedback=feedback_format, format=moodle_format))
    files = _files(element)
    if files:
        stem, explanation = _without_images(stem), _without_images(explanation)
        q.warn(ngettext("%(num)s embedded file (%(names)s) was not imported: images in questions are not supported "
                        "yet, so it was removed from the question text (which would not show it anyway)",
                        "%(num)s embedded files (%(names)s) were not imported: images in questions are not "
                        "supported yet, so they were removed from the question text (which would not show them "
                        "anyway)", len(files), names=_names(files)))
    if len(stem) > MAX_TEXT:
        q.error(_l("the question text is longer than %(limit)s characters", limit=MAX_TEXT))
    if len(explanation) > MAX_TEXT:
        q.error(_l("the general feedback is longer than %(limit)s characters", limit=MAX_TEXT))

    points = _points(q)
    penalty = finite_float(element.findtext("penalty") or "0")
    if penalty:
        state.penalties += 1
        state.first_penalty = state.first_penalty or line
    if _flag(element.findtext("hidden"), False):
        q.warn(_l("the question is hidden in Moodle; it was imported anyway"))
    idnumber = (element.findtext("idnumber") or "").strip()
    if idnumber and title == " ".join(idnumber.split()):
        title = ""  # named by its id (as our export names a question without a title): the id says it all
    tags, difficulty = _tags(q, state.category)
    if any(q.text(hint) for hint in element.findall("hint")):
        q.warn(_l("the question's hints have no place here and were dropped"))

    kind, data = READERS[moodle_type](q)
    q.finish_markup()
    if report.count > before or data is None:
        return None
    return finish_question(report, line, key=explicit_key(idnumber), kind=kind, stem=stem, data=data, tags=tags,
                           difficulty=difficulty, points=points, explanation=explanation, title=title,
                           text_format=text_format)


def _points(q: _Question) -> float:
    raw = q.element.findtext("defaultgrade")
    if raw is None or not raw.strip():
        return 1.0
    value = finite_float(raw)
    if value is None or not 0 < value <= MAX_POINTS:
        q.error(_l("the default mark (defaultgrade) must be a number above 0 and at most %(max)s, not %(value)r",
                   max=MAX_POINTS, value=_excerpt(raw.strip())))
        return 1.0
    return value


def _tags(q: _Question, category: str | None) -> tuple[list[str], int | None]:
    tags = [category] if category else []
    difficulty = None
    for holder in q.element.findall("tags/tag") + q.element.findall("coursetags/tag"):
        tag = q.text(holder)
        if not tag:
            continue
        match = _DIFFICULTY_TAG.match(tag)
        if match:
            difficulty = difficulty or int(match.group(1))
            continue
        if len(tag) > MAX_TAG:
            q.error(_l("tag %(tag)r is longer than %(limit)s characters", tag=tag, limit=MAX_TAG))
            continue
        tags.append(tag)
    return tags, difficulty


def _files(element) -> list[str]:
    """The names of the files a question embeds (<file>) or refers to (@@PLUGINFILE@@/name)."""
    names = [(file.get("name") or "?").strip() or "?" for file in element.iter("file")]
    names += [(image.text or "").strip().rsplit("/", 1)[-1] for image in element.iter("image")
              if (image.text or "").strip()]  # Moodle 1.x: <image> and <image_base64>
    for node in element.iter("text"):
        for reference in _PLUGINFILE.findall(node.text or ""):
            names.append(unquote(reference.split("?", 1)[0]).rsplit("/", 1)[-1] or "?")
    return list(dict.fromkeys(names))


def _without_images(text: str) -> str:
    return _PLUGIN_MD_IMG.sub("", _PLUGIN_IMG.sub("", text)).strip()
