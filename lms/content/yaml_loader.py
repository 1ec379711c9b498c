"""The one YAML reader for content files (front matter, exam.yaml, ladder.yaml, bank files), with limits.

Content files are written by people, pasted into the browser and uploaded, so what the reader
accepts is bounded before anything is built:

- no anchors, aliases or `<<` merge keys (refused while composing, so an alias bomb costs
  nothing: the first `&` stops the read);
- at most MAX_DEPTH nested lists and mappings, and MAX_BYTES of text;
- numbers of at most MAX_DIGITS digits (Python refuses to turn long digit strings into int, and
  no content value needs them: quote the value to have it as text);
- only the plain YAML 1.1 core types (text, numbers, true/false, null, dates, lists, mappings);
  explicit tags other than `!!str` (`!!binary`, `!!set`, `!!python/...`, `!foo`) are refused.

`compose` returns the checked node tree (every node knows its line); `construct` turns a checked
node into Python values. Problems raise `YamlProblem` with the line (1-based, in the text given).
"""
from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from lms.content.errors import Text, _l

MAX_BYTES = 2_000_000
MAX_DEPTH = 50
MAX_DIGITS = 30

NO_ALIASES = _l("anchors and aliases are not allowed in content files")
TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = {TAG + name for name in ("null", "bool", "int", "float", "str", "timestamp")}
DIGIT = re.compile(r"[0-9a-fA-F]")


class YamlProblem(Exception):
    """Why a text cannot be read. `syntax` is True for YAML that is malformed (callers say "not valid
    YAML"), False for a limit or a refused construct, whose message says it all."""

    def __init__(self, line: int, message: Text, *, syntax: bool = False):
        super().__init__(f"{line}: {message}")
        self.line, self.message, self.syntax = line, message, syntax


class _Refused(yaml.YAMLError):
    def __init__(self, mark, message: Text):
        super().__init__(message)
        self.mark, self.message = mark, message


class _Checks(Composer):
    """A composer that refuses, event by event, what content files have no use for."""

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, NO_ALIASES)
        if isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Refused(event.start_mark, _too_deep())
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1
        return super().compose_node(parent, index)

    def compose_scalar_node(self, anchor):
        event: ScalarEvent = self.get_event()
        explicit = event.tag not in (None, "!")
        if explicit and event.tag != TAG + "str":
            raise _Refused(event.start_mark, _l("the tag %(tag)r is not allowed in content files (write plain text, "
                                                "numbers, true/false, dates, lists and mappings)", tag=event.tag))
        tag = event.tag if explicit else self.resolve(ScalarNode, event.value, event.implicit)
        if tag == TAG + "merge":
            raise _Refused(event.start_mark, _l("%(problem)s ('<<' merges a mapping in)", problem=NO_ALIASES))
        if tag not in SCALAR_TAGS:
            raise _Refused(event.start_mark, _l("the value %(value)r has a type content files do not use",
                                                value=event.value[:40]))
        if tag in (TAG + "int", TAG + "float") and len(DIGIT.findall(event.value)) > MAX_DIGITS:
            raise _Refused(event.start_mark, _l("the number %(number)s... has more than %(n)s digits (put it in "
                                                "quotes if it is text)", number=event.value[:20], n=MAX_DIGITS))
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        if tag == TAG + "timestamp":
            try:
                self.construct_yaml_timestamp(node)
            except (ValueError, OverflowError):
                raise _Refused(event.start_mark, _l("%(value)r is not a real date", value=event.value)) from None
        return node

    def compose_sequence_node(self, anchor):
        event = self.peek_event()
        if event.tag not in (None, "!", TAG + "seq"):
            raise _Refused(event.start_mark, _l("the tag %(tag)r is not allowed in content files", tag=event.tag))
        return super().compose_sequence_node(anchor)

    def compose_mapping_node(self, anchor):
        event = self.peek_event()
        if event.tag not in (None, "!", TAG + "map"):
            raise _Refused(event.start_mark, _l("the tag %(tag)r is not allowed in content files", tag=event.tag))
        return super().compose_mapping_node(anchor)


class _PyLoader(_Checks, yaml.SafeLoader):
    pass


if yaml.__with_libyaml__:
    class _Loader(_Checks, yaml.CSafeLoader):
        """libyaml scans and parses (a 2 MB file in about a second, not ten); the checks stay in Python."""

        def __init__(self, text: str):
            yaml.CSafeLoader.__init__(self, text)
            Composer.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    _Loader = _PyLoader


def _too_deep() -> Text:
    return _l("lists and mappings are nested more than %(n)s deep", n=MAX_DEPTH)


# What libyaml (and PyYAML) say, in words a trainer can act on, in the reader's language. A problem
# not listed here is shown as the library words it.
SYNTAX_PROBLEMS = {
    "mapping values are not allowed in this context": _l(
        "a 'key: value' is not allowed here (check the indentation, or put text holding ': ' in quotes)"),
    "mapping values are not allowed here": _l(
        "a 'key: value' is not allowed here (check the indentation, or put text holding ': ' in quotes)"),
    "did not find expected key": _l("a key was expected here (check the indentation and the quotes)"),
    "did not find expected ',' or ']'": _l("a ',' or ']' was expected: a list in [...] is not closed"),
    "did not find expected ',' or '}'": _l("a ',' or '}' was expected: a mapping in {...} is not closed"),
    "did not find expected '-' indicator": _l("a list item '- ' was expected here (check the indentation)"),
    "block sequence entries are not allowed in this context": _l(
        "a list item '- ' is not allowed here (check the indentation)"),
    "found unexpected end of stream": _l("the text ends before the value is closed (a quote is missing?)"),
    "found character that cannot start any token": _l(
        "a character that cannot start a value, such as a tab, @ or ` (indent with spaces, put the value in quotes)"),
    "found unknown escape character": _l(
        "an unknown escape after a backslash in double quotes (use single quotes for text with backslashes)"),
    "found unhashable key": _l("a key must be a plain name, not a list or a mapping"),
    "found a tab character where an indentation space is expected": _l("a tab indents a line: indent with spaces"),
    "found a tab character that violates indentation": _l("a tab indents a line: indent with spaces"),
    "did not find expected node content": _l("a value was expected here"),
    "could not find expected ':'": _l("a ':' was expected after the key"),
    "did not find expected comment or line break": _l("more text follows the value (put the whole text in quotes)"),
    "did not find expected <document start>": _l("more text follows the end of the document"),
    "but found another document": _l("a '---' line starts a second document: a content file holds one"),
}
# Where the broken part began ("while parsing a flow sequence"), for "(the [...] list started on line 3)".
SYNTAX_CONTEXTS = {
    "while parsing a flow sequence": _l("the [...] list"),
    "while parsing a flow mapping": _l("the {...} mapping"),
    "while parsing a block mapping": _l("the 'key: value' lines"),
    "while parsing a block collection": _l("the '- ' list"),
    "while scanning a quoted scalar": _l("the quoted text"),
    "while scanning a block scalar": _l("the '|' or '>' text block"),
    "while scanning a simple key": _l("the key"),
    "while parsing a node": _l("the value"),
    "expected a single document in the stream": _l("the document"),
}


def _syntax_problem(problem: str, context: str | None, opened_line: int | None) -> Text:
    if problem.startswith("unacceptable character"):  # a ReaderError, with the character's code
        problem_text: Text = _l("the text holds a control character YAML does not allow (%(detail)s)",
                                detail=problem.removeprefix("unacceptable character ").split(":")[0])
    else:
        problem_text = SYNTAX_PROBLEMS.get(problem, problem)
    if context is None or opened_line is None:
        return problem_text
    return _l("%(problem)s (%(what)s started on line %(line)s)", problem=problem_text,
              what=SYNTAX_CONTEXTS.get(context, context), line=opened_line)


def _problem(exc: yaml.YAMLError, text: str = "") -> YamlProblem:
    if isinstance(exc, _Refused):
        return YamlProblem(exc.mark.line + 1 if exc.mark else 1, exc.message)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
    line = mark.line + 1 if mark else 1
    if isinstance(getattr(exc, "position", None), int):  # a ReaderError: a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
    if "maximum nesting depth" in problem:  # libyaml's own bound, met before ours on flow nesting
        return YamlProblem(line, _too_deep())
    context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    started = opened.line + 1 if context and opened is not None and mark is not None and opened.line != mark.line \
        else None
    return YamlProblem(line, _syntax_problem(problem, context, started), syntax=True)


def compose(text: str) -> Node | None:
    """The checked node tree of a one-document YAML text (None when it is empty). Raises YamlProblem."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YamlProblem(1, _l("the text is larger than %(n)s MB", n=MAX_BYTES // 1_000_000))
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _problem(exc, text) from None
    except RecursionError:  # not expected with MAX_DEPTH, but never a traceback
        raise YamlProblem(1, _l("the text is nested too deeply")) from None
    finally:
        loader.dispose()


def construct(node: Node | None) -> Any:
    """Python values of a node `compose` returned (dicts, lists, str, int, float, bool, None, dates)."""
    if node is None:
        return None
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_document(node)
    except yaml.YAMLError as exc:  # an unhashable key, say ({[a]: b})
        raise _problem(exc) from None
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        raise YamlProblem(node.start_mark.line + 1,
                          _l("the value cannot be read: %(problem)s", problem=str(exc))) from None
    finally:
        constructor.dispose()


def load(text: str) -> tuple[Node | None, Any]:
    """`compose` then `construct`: the node tree (for lines) and the values. Raises YamlProblem."""
    node = compose(text)
    return node, construct(node)


def value_lines(node: Node | None, *, first_line: int = 1) -> dict[tuple, int]:
    """The line of every value, keyed by its path: ("pools", 0, "bank"); () is the document's.
    Mapping keys are their text as written; the first of a key given twice wins."""
    lines: dict[tuple, int] = {}
    if node is None:
        return lines
    lines[()] = first_line + node.start_mark.line
    stack: list[tuple[Node, tuple]] = [(node, ())]
    while stack:
        current, path = stack.pop()
        if isinstance(current, MappingNode):
            children = [(key.value if isinstance(key, ScalarNode) else f"<line {key.start_mark.line + 1}>", key, value)
                        for key, value in current.value]
        elif isinstance(current, SequenceNode):
            children = [(index, item, item) for index, item in enumerate(current.value)]
        else:
            continue
        for name, at, child in children:
            lines.setdefault(path + (name,), first_line + at.start_mark.line)
            stack.append((child, path + (name,)))
    return lines


def duplicate_keys(node: Node | None) -> list[tuple[int, str, int]]:
    """(line, key, first line) of every key given twice in one mapping, at any depth (0-based lines)."""
    found: list[tuple[int, str, int]] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, MappingNode):
            seen: dict[str, int] = {}
            for key, value in current.value:
                if isinstance(key, ScalarNode):
                    if key.value in seen:
                        found.append((key.start_mark.line, key.value, seen[key.value]))
                    else:
                        seen[key.value] = key.start_mark.line
                stack.append(value)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
    return sorted(found)


_SCALARS = yaml.SafeLoader("")  # its scalar constructors keep no state


def construct_scalar(node: ScalarNode) -> Any:
    """The Python value of one checked scalar node (for readers that build their own containers)."""
    return _SCALARS.yaml_constructors[node.tag](_SCALARS, node)
