"""YAML front matter that remembers the line of every key, so errors can name it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml

from lms.content.errors import ContentError

BOUNDARY = frontmatter.YAMLHandler.FM_BOUNDARY


@dataclass
class Document:
    path: str
    meta: dict[str, Any]
    key_lines: dict[str, int]
    body: str
    body_line: int
    errors: list[ContentError] = field(default_factory=list)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)

    def error(self, key: str | None, message: str) -> None:
        self.errors.append(ContentError(self.path, self.line_of(key) if key else 1, message))


def parse_document(text: str, path: str) -> Document:
    """Split `---` front matter from the Markdown body. Problems land in `Document.errors`."""
    text = text.lstrip("\ufeff")
    opening = BOUNDARY.match(text)
    if opening is None:
        doc = Document(path, {}, {}, text, 1)
        doc.error(None, "the file must start with a '---' line opening the front matter")
        return doc
    closing = BOUNDARY.search(text, opening.end())
    if closing is None:
        doc = Document(path, {}, {}, "", 1)
        doc.error(None, "the front matter opened on line 1 is never closed with a '---' line")
        return doc
    first_line = text.count("\n", 0, opening.end()) + 1
    body_line = text.count("\n", 0, closing.start()) + 2  # the line after the closing ---
    doc = Document(path, {}, {}, text[closing.end():].lstrip("\n"), body_line)
    try:
        loader = yaml.SafeLoader(text[opening.end():closing.start()])
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark else first_line
        problem = getattr(exc, "problem", None) or str(exc)
        doc.errors.append(ContentError(path, line, f"front matter is not valid YAML: {problem}"))
        return doc
    if not isinstance(data, dict) or node is None or not isinstance(node, yaml.MappingNode):
        line = first_line + node.start_mark.line if node is not None else first_line
        doc.errors.append(ContentError(path, line, "front matter must be a list of 'key: value' lines"))
        return doc
    for key_node, _value in node.value:
        key = key_node.value
        line = first_line + key_node.start_mark.line
        if key in doc.key_lines:
            doc.errors.append(ContentError(path, line, f"'{key}' is given twice (first on line {doc.key_lines[key]})"))
        doc.key_lines[key] = line
    doc.meta = {str(key): value for key, value in data.items()}
    return doc


def front_matter_lines(text: str) -> dict[tuple, int]:
    """The line of every value inside the front matter, nested ones included, keyed by their path:
    ("criteria",) for a top-level key, ("criteria", 0, "levels", 2) for a list item deep inside.

    For error messages about nested values; returns {} when the front matter cannot be read
    (parse_document reports that)."""
    text = text.lstrip("\ufeff")
    opening = BOUNDARY.match(text)
    closing = BOUNDARY.search(text, opening.end()) if opening else None
    if closing is None:
        return {}
    first_line = text.count("\n", 0, opening.end()) + 1
    try:
        node = yaml.compose(text[opening.end():closing.start()], Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple, int] = {}

    def walk(node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = path + (key_node.value,)
                lines.setdefault(child, first_line + key_node.start_mark.line)
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = path + (index,)
                lines.setdefault(child, first_line + item.start_mark.line)
                walk(item, child)

    if node is not None:
        walk(node, ())
    return lines


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

    def error(self, keys: tuple, message: str) -> None:
        self.errors.append(ContentError(self.path, self.line_of(*keys), message))


def parse_yaml_file(text: str, path: str) -> YamlFile:
    """Parse a YAML file, remembering lines, and report syntax errors and keys given twice at any
    depth. Problems land in `YamlFile.errors`; `data` is None when the file cannot be read."""
    text = text.lstrip("\ufeff")
    result = YamlFile(path, None, {})
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        result.errors.append(ContentError(path, mark.line + 1 if mark else 1, f"not valid YAML: {problem}"))
        return result

    def walk(node, keys: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = keys + (key_node.value,)
                line = key_node.start_mark.line + 1
                if child in result.lines:
                    result.errors.append(ContentError(
                        path, line, f"'{key_node.value}' is given twice (first on line {result.lines[child]})"))
                    continue
                result.lines[child] = line
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                result.lines[keys + (index,)] = item.start_mark.line + 1
                walk(item, keys + (index,))

    if node is not None:
        result.lines[()] = node.start_mark.line + 1
        walk(node, ())
    result.data = data
    return result
