"""YAML front matter that remembers the line of every key, so errors can name it.

Every YAML read in content files goes through `lms.content.yaml_loader` (no aliases, bounded depth,
size and numbers); this module adds the `---` fences, the lines of keys and keys given twice."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml

from lms.content.errors import ContentError, Text, _l
from lms.content.fields import field_name
from lms.content.yaml_loader import MAX_BYTES, YamlProblem, duplicate_keys, load, value_lines

BOUNDARY = frontmatter.YAMLHandler.FM_BOUNDARY


@dataclass
class Document:
    path: str
    meta: dict[str, Any]
    key_lines: dict[str, int]
    body: str
    body_line: int
    errors: list[ContentError] = field(default_factory=list)
    lines: dict[tuple, int] = field(default_factory=dict)  # every value's line, nested ones too

    def line_of(self, key: str | tuple) -> int:
        """The line of a top-level key, or of the value at a path (("criteria", 0, "weight")), else
        of its nearest parent."""
        if not isinstance(key, tuple):
            return self.key_lines.get(key, 1)
        for end in range(len(key), 0, -1):
            if key[:end] in self.lines:
                return self.lines[key[:end]]
        return 1

    def error(self, key: str | tuple | None, message: Text) -> None:
        self.errors.append(ContentError(self.path, self.line_of(key) if key else 1, message))


def _message(problem: YamlProblem, front_matter: bool) -> Text:
    if not problem.syntax:
        return problem.message
    if front_matter:
        return _l("front matter is not valid YAML: %(problem)s", problem=problem.message)
    return _l("not valid YAML: %(problem)s", problem=problem.message)


def parse_document(text: str, path: str) -> Document:
    """Split `---` front matter from the Markdown body. Problems land in `Document.errors`."""
    text = text.lstrip("\ufeff")
    if len(text) > MAX_BYTES:
        doc = Document(path, {}, {}, "", 1)
        doc.error(None, _l("the file is larger than %(n)s MB", n=MAX_BYTES // 1_000_000))
        return doc
    opening = BOUNDARY.match(text)
    if opening is None:
        doc = Document(path, {}, {}, text, 1)
        doc.error(None, _l("the file must start with a '---' line opening the front matter"))
        return doc
    closing = BOUNDARY.search(text, opening.end())
    if closing is None:
        doc = Document(path, {}, {}, "", 1)
        doc.error(None, _l("the front matter opened on line 1 is never closed with a '---' line"))
        return doc
    first_line = text.count("\n", 0, opening.end()) + 1
    body_line = text.count("\n", 0, closing.start()) + 2  # the line after the closing ---
    doc = Document(path, {}, {}, text[closing.end():].lstrip("\n"), body_line)
    try:
        node, data = load(text[opening.end():closing.start()])
    except YamlProblem as problem:
        doc.errors.append(ContentError(path, first_line + problem.line - 1,
                                       _message(problem, front_matter=True)))
        return doc
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        line = first_line + node.start_mark.line if node is not None else first_line
        doc.errors.append(ContentError(path, line, _l("front matter must be a list of 'key: value' lines")))
        return doc
    for key_node, _value in node.value:
        key = key_node.value
        line = first_line + key_node.start_mark.line
        if key in doc.key_lines:
            doc.errors.append(ContentError(path, line, _l(
                "%(field)s cannot be given twice (first on line %(line)s)", field=field_name(key),
                line=doc.key_lines[key])))
        doc.key_lines[key] = line
    doc.lines = value_lines(node, first_line=first_line)
    doc.meta = {str(key): value for key, value in data.items()}
    return doc


def front_matter_lines(text: str) -> dict[tuple, int]:
    """The line of every value inside the front matter, nested ones included, keyed by their path:
    ("criteria",) for a top-level key, ("criteria", 0, "levels", 2) for a list item deep inside.

    For error messages about nested values; returns {} when the front matter cannot be read
    (parse_document reports that). `Document.lines` holds the same without a second read."""
    return parse_document(text, "").lines


@dataclass
class YamlFile:
    """A whole YAML file (exam.yaml, say) with the line of every value, nested ones included."""

    path: str
    data: Any
    lines: dict[tuple, int]
    errors: list[ContentError] = field(default_factory=list)

    def line_of(self, *keys) -> int:
        """The line of the value at `keys` (("pools", 0, "bank")), else of its nearest parent."""
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.lines:
                return self.lines[keys[:end]]
        return 1

    def error(self, keys: tuple, message: Text) -> None:
        self.errors.append(ContentError(self.path, self.line_of(*keys), message))


def parse_yaml_file(text: str, path: str) -> YamlFile:
    """Parse a YAML file, remembering lines, and report syntax errors, refused constructs (see
    yaml_loader) and keys given twice at any depth. Problems land in `YamlFile.errors`; `data` is
    None when the file cannot be read."""
    text = text.lstrip("\ufeff")
    result = YamlFile(path, None, {})
    try:
        node, data = load(text)
    except YamlProblem as problem:
        result.errors.append(ContentError(path, problem.line, _message(problem, front_matter=False)))
        return result
    result.lines = value_lines(node)
    for line, key, first in duplicate_keys(node):
        result.errors.append(ContentError(path, line + 1, _l(
            "%(field)s cannot be given twice (first on line %(line)s)", field=field_name(key), line=first + 1)))
    result.data = data
    return result
