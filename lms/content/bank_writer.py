"""Writing banks in the native format (question_banks/<slug>.yaml), readable as people write it:
flow lists for tags and answers, block scalars for multi-line text. parse_bank reads it back."""
from __future__ import annotations

import re
from typing import Any, Iterable

import yaml

from lms.content.banks import QuestionSpec, canonical_number, is_correct_scheme, percent
from lms.questions.types import FillBlank


class _Flow(list):
    """A list written on one line: tags, answers, pairs."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # "  - id:" under "questions:", as people write it

    def ignore_aliases(self, data):
        return True


def _represent_text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(_Flow, lambda dumper, value: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", value, flow_style=True))


def question_document(spec: QuestionSpec) -> dict:
    """One question as the native format writes it (also what the browser's form starts from)."""
    doc: dict[str, Any] = {"id": spec.key}
    if spec.title:
        doc["title"] = spec.title
    doc["type"] = spec.type
    if spec.tags:
        doc["tags"] = _Flow(spec.tags)
    if spec.difficulty is not None:
        doc["difficulty"] = spec.difficulty
    if spec.points != 1:
        doc["points"] = canonical_number(spec.points)
    if spec.text_format != "markdown":
        doc["format"] = spec.text_format
    doc["stem"] = spec.stem
    data = spec.data
    if spec.type in ("single", "multi"):
        weights = [option.get("weight", 0.0) for option in data["options"]]
        by_correct = is_correct_scheme(spec.type, weights)
        doc["options"] = []
        for option in data["options"]:
            entry: dict[str, Any] = {"text": option["text"]}
            if by_correct:
                if option.get("weight", 0.0) > 0:
                    entry["correct"] = True
            else:
                entry["weight"] = percent(option.get("weight", 0.0))
            if option.get("feedback"):
                entry["feedback"] = option["feedback"]
            doc["options"].append(entry)
    elif spec.type == "truefalse":
        doc["answer"] = data["answer"]
    elif spec.type == "fill":
        doc["answers"] = _Flow(_fill_item(answer, weight, margin, data.get("tolerance"))
                               for answer, weight, margin in FillBlank.accepted(data))
        if "tolerance" in data:
            doc["tolerance"] = data["tolerance"]
    elif spec.type == "matching":
        doc["pairs"] = [_Flow([pair["left"], pair["right"]]) for pair in data["pairs"]]
        if data.get("distractors"):
            doc["distractors"] = _Flow(d["text"] for d in data["distractors"])
    elif spec.type == "essay" and data.get("guidance"):
        doc["guidance"] = data["guidance"]
    if spec.explanation:
        doc["explanation"] = spec.explanation
    return doc


def _fill_item(answer, weight: float, margin, default_margin):
    """An accepted answer as written: itself, or {answer, weight, tolerance} when it has partial
    credit or its own margin."""
    item: dict[str, Any] = {}
    if weight != 1:
        item["weight"] = percent(weight)
    if margin is not None and margin != default_margin:
        item["tolerance"] = margin
    return {"answer": answer, **item} if item else answer


def dump_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096,
                     default_flow_style=False)


def dump_bank(slug: str, title: str, description: str, questions: Iterable[QuestionSpec]) -> str:
    """A bank in the native format: what `parse_bank` reads back to the same questions."""
    document: dict[str, Any] = {"slug": slug, "title": title}
    if description:
        document["description"] = description
    document["questions"] = [question_document(spec) for spec in questions]
    text = dump_yaml(document)
    # A blank line between questions, for people reading the diff.
    return re.sub(r"(?<!\nquestions:)\n(  - id: )", r"\n\n\1", text)
