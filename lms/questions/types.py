"""The question-type registry: `QUESTION_TYPES[name]` validates, shows, cleans and grades.

Every type works on a version's `data` dict, whose internal ids ("o1", "p2", "d1") never reach a
browser during an attempt. The browser sees options by their position in the attempt's stored
order ("0", "1", ...), and `clean_response` maps positions back to internal ids, so neither the key
nor the file's option order can be read from a page.

Data shapes:
    single, multi  {"options": [{"id", "text", "weight" (fraction, -1..1), "feedback"}]}
    truefalse      {"answer": bool}
    fill           {"answers": [str, ...]}  or  {"answers": [number, ...], "tolerance": number}, and
                   optionally "weights": [fraction per answer] (partial credit, as Moodle's short answer
                   and numerical; absent: every answer is worth 100%) and, for numbers,
                   "tolerances": [margin per answer] (absent: "tolerance" is every answer's margin)
    matching       {"pairs": [{"id", "left", "right"}], "distractors": [{"id", "text"}]}; two items
                   may share a match (as in Moodle): the choice is shown once, under the first pair's id
    essay          {"guidance": str}   (marked by a trainer)
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from lms.content.errors import _l  # lazy, and without importing Flask-Babel until shown

MAX_TEXT_ANSWER = 500
MAX_ESSAY = 20_000
# The most a question may have: what the editor shows (lms/banks/forms.py) and import accepts.
MAX_OPTIONS = 24
MAX_PAIRS = 25
_POSITION = re.compile(r"[0-9]{1,4}")  # ASCII only: "²" and "①" pass str.isdigit() but not int()


class InvalidResponse(ValueError):
    """A response that does not fit the question (unknown option, wrong shape, too long)."""


@dataclass(frozen=True)
class Score:
    fraction: float | None  # 0..1 of the question's points; None while a marker has to decide

    @property
    def pending(self) -> bool:
        return self.fraction is None

    def points(self, max_points: float) -> float | None:
        return None if self.fraction is None else round(self.fraction * max_points, 4)


def clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def normalize_text(value: str) -> str:
    """Fold what a Chinese keyboard varies: full-width forms (NFKC), case, spaces around and within."""
    folded = unicodedata.normalize("NFKC", value).casefold().strip()
    return re.sub(r"\s+", " ", folded)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positions(order: list[str], real_id: str) -> str:
    return str(order.index(real_id))


def _from_position(order: list[str], position: Any) -> str:
    if isinstance(position, bool) or not isinstance(position, (str, int)):
        raise InvalidResponse("option must be given by its position")
    text = str(position).strip()
    if not _POSITION.fullmatch(text) or int(text) >= len(order):
        raise InvalidResponse(f"no option {text[:20]!r}")
    return order[int(text)]


class QuestionType:
    name: str = ""
    label = _l("Question")
    always_shuffle = False  # matching: choices in file order would line up with their items

    def validate(self, data: dict) -> list:
        """Problems with the content and key, as messages translated when shown (empty when the data is usable)."""
        return []

    def option_ids(self, data: dict) -> list[str]:
        """Internal ids an attempt stores in its own (possibly shuffled) order."""
        return []

    def public(self, data: dict, order: list[str]) -> dict:
        """What the browser may see while the attempt is open: no weights, answers or feedback."""
        return {}

    def clean_response(self, data: dict, order: list[str], raw: Any) -> Any:
        """Turn what the browser sent into the stored response; None means unanswered."""
        raise NotImplementedError

    def public_response(self, data: dict, order: list[str], response: Any) -> Any:
        """The stored response as the browser expresses it, to show a resumed attempt."""
        return response

    def grade(self, data: dict, response: Any) -> Score:
        raise NotImplementedError

    def key(self, data: dict) -> dict:
        """The right answer, for review once the exam's review policy allows it."""
        return {}


class SingleChoice(QuestionType):
    name = "single"
    label = _l("Single choice")

    def validate(self, data):
        options = data.get("options") or []
        problems = []
        if len(options) < 2:
            problems.append(_l("a choice question needs at least two options"))
        if not any(math.isclose(option.get("weight", 0), 1.0) for option in options):
            # Several fully right options are allowed (as in Moodle): any one of them earns full marks.
            problems.append(_l("at least one option must be fully right (weight 100%)"))
        if any(not -1.0 <= option.get("weight", 0) <= 1.0 for option in options):
            problems.append(_l("option weights lie between -100% and 100%"))
        return problems

    def option_ids(self, data):
        return [option["id"] for option in data["options"]]

    def public(self, data, order):
        by_id = {option["id"]: option for option in data["options"]}
        return {"options": [{"id": str(i), "text": by_id[real]["text"]} for i, real in enumerate(order)]}

    def clean_response(self, data, order, raw):
        if raw is None or raw == "" or raw == []:
            return None
        if isinstance(raw, list):
            if len(raw) != 1:
                raise InvalidResponse("choose one option")
            raw = raw[0]
        return _from_position(order, raw)

    def public_response(self, data, order, response):
        return None if response is None else _positions(order, response)

    def grade(self, data, response):
        weights = {option["id"]: option.get("weight", 0.0) for option in data["options"]}
        return Score(clamp(weights.get(response, 0.0)) if response is not None else 0.0)

    def key(self, data):
        return {"options": [{"id": o["id"], "text": o["text"], "weight": o.get("weight", 0.0),
                             "feedback": o.get("feedback", "")} for o in data["options"]]}


class MultipleChoice(SingleChoice):
    name = "multi"
    label = _l("Multiple choice")

    def validate(self, data):
        options = data.get("options") or []
        problems = []
        if len(options) < 2:
            problems.append(_l("a choice question needs at least two options"))
        positive = sum(option.get("weight", 0) for option in options if option.get("weight", 0) > 0)
        if not math.isclose(positive, 1.0, abs_tol=0.005):
            total = "%g" % (positive * 100)
            problems.append(_l("the positive weights add up to %(sum)s%%, not 100%%", sum=total))
        if any(not -1.0 <= option.get("weight", 0) <= 1.0 for option in options):
            problems.append(_l("option weights lie between -100% and 100%"))
        return problems

    def clean_response(self, data, order, raw):
        if raw is None or raw == "":
            return None
        items = raw if isinstance(raw, list) else [raw]
        if len(items) > len(order):
            raise InvalidResponse("more choices than options")
        chosen = sorted({_from_position(order, item) for item in items})
        return chosen or None

    def public_response(self, data, order, response):
        return [] if not response else sorted(_positions(order, real) for real in response)

    def grade(self, data, response):
        """Sum of the ticked options' weights, clamped to 0..1: ticking everything scores nothing."""
        weights = {option["id"]: option.get("weight", 0.0) for option in data["options"]}
        return Score(clamp(sum(weights.get(real, 0.0) for real in response or [])))


class TrueFalse(QuestionType):
    name = "truefalse"
    label = _l("True/false")

    def validate(self, data):
        return [] if isinstance(data.get("answer"), bool) else [_l("the answer must be true or false")]

    def clean_response(self, data, order, raw):
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise InvalidResponse("answer true or false")

    def grade(self, data, response):
        return Score(1.0 if response is not None and response == data["answer"] else 0.0)

    def key(self, data):
        return {"answer": data["answer"]}


class FillBlank(QuestionType):
    name = "fill"
    label = _l("Fill in the blank")

    def validate(self, data):
        answers = data.get("answers") or []
        if not answers:
            return [_l("a fill-in question needs at least one accepted answer")]
        weights = data.get("weights")
        if weights is not None:
            if not isinstance(weights, list) or len(weights) != len(answers) or not all(
                    _is_number(w) and 0 < w <= 1 for w in weights):
                return [_l("each accepted answer is worth more than 0% and at most 100%")]
            if not any(math.isclose(w, 1.0) for w in weights):
                return [_l("at least one accepted answer must be worth 100%")]
        if "tolerance" in data:
            if not all(_is_number(a) for a in answers):
                return [_l("numeric answers (with a tolerance) must be numbers")]
            margins = [data["tolerance"]] + list(data.get("tolerances") or [])
            if not all(_is_number(m) and m >= 0 for m in margins):
                return [_l("the tolerance must be a number of at least 0")]
            if "tolerances" in data and len(data["tolerances"]) != len(answers):
                return [_l("give one margin per numeric answer")]
            return []
        if "tolerances" in data:
            return [_l("margins belong to numeric answers (with a tolerance)")]
        if not all(isinstance(a, str) and normalize_text(a) for a in answers):
            return [_l("accepted answers must be non-empty text")]
        return []

    @staticmethod
    def accepted(data: dict) -> list[tuple[Any, float, float | None]]:
        """(answer, weight, margin) for each accepted answer; margin None for text answers."""
        weights = data.get("weights") or [1.0] * len(data["answers"])
        if "tolerance" not in data:
            return [(answer, weight, None) for answer, weight in zip(data["answers"], weights)]
        margins = data.get("tolerances") or [data["tolerance"]] * len(data["answers"])
        return list(zip(data["answers"], weights, margins))

    def clean_response(self, data, order, raw):
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise InvalidResponse("type the answer as text")
        if len(raw) > MAX_TEXT_ANSWER:
            raise InvalidResponse(f"at most {MAX_TEXT_ANSWER} characters")
        return raw.strip() or None

    def grade(self, data, response):
        """The best weight among the accepted answers the response matches (Moodle's rule)."""
        if response is None:
            return Score(0.0)
        accepted = self.accepted(data)
        if "tolerance" in data:
            try:
                value = float(normalize_text(response).replace(",", ""))
            except ValueError:
                return Score(0.0)
            if not math.isfinite(value):
                return Score(0.0)
            return Score(max((weight for answer, weight, margin in accepted
                              if abs(value - answer) <= margin + 1e-9), default=0.0))
        given = normalize_text(response)
        return Score(max((weight for answer, weight, _margin in accepted if given == normalize_text(answer)),
                         default=0.0))

    def key(self, data):
        return {"answers": data["answers"], "tolerance": data.get("tolerance"),
                "accepted": [{"answer": answer, "weight": weight, "tolerance": margin}
                             for answer, weight, margin in self.accepted(data)]}


class Matching(QuestionType):
    name = "matching"
    label = _l("Matching")
    always_shuffle = True

    def validate(self, data):
        pairs = data.get("pairs") or []
        if len(pairs) < 2:
            return [_l("a matching question needs at least two pairs")]
        distractors = [d["text"] for d in data.get("distractors", [])]
        if len(set(distractors)) != len(distractors) or set(distractors) & {pair["right"] for pair in pairs}:
            return [_l("every extra wrong match must differ from the others and from the right matches")]
        return []

    @staticmethod
    def choice_ids(data) -> dict[str, str]:
        """Each pair's choice id: its own, or the first pair's with the same match (a shared answer)."""
        first: dict[str, str] = {}
        return {pair["id"]: first.setdefault(pair["right"], pair["id"]) for pair in data["pairs"]}

    def option_ids(self, data):
        shared = self.choice_ids(data)
        return ([pair["id"] for pair in data["pairs"] if shared[pair["id"]] == pair["id"]]
                + [d["id"] for d in data.get("distractors", [])])

    def _choices(self, data):
        choices = {pair["id"]: pair["right"] for pair in data["pairs"]}
        choices.update({d["id"]: d["text"] for d in data.get("distractors", [])})
        return choices

    def public(self, data, order):
        choices = self._choices(data)
        return {
            "items": [{"id": str(i), "text": pair["left"]} for i, pair in enumerate(data["pairs"])],
            "choices": [{"id": str(i), "text": choices[real]} for i, real in enumerate(order)],
        }

    def clean_response(self, data, order, raw):
        if raw is None or raw == "" or raw == {}:
            return None
        if not isinstance(raw, dict):
            raise InvalidResponse("match each item to a choice")
        pairs = data["pairs"]
        if len(raw) > len(pairs):
            raise InvalidResponse("more items than the question has")
        cleaned = {}
        for item, choice in raw.items():
            if not _POSITION.fullmatch(str(item)) or int(item) >= len(pairs):
                raise InvalidResponse(f"no item {str(item)[:20]!r}")
            if choice in (None, ""):
                continue
            cleaned[pairs[int(item)]["id"]] = _from_position(order, choice)
        return cleaned or None

    def public_response(self, data, order, response):
        if not response:
            return {}
        index = {pair["id"]: i for i, pair in enumerate(data["pairs"])}
        return {str(index[item]): _positions(order, choice) for item, choice in response.items() if item in index}

    def grade(self, data, response):
        """One share per pair matched to its own right-hand side."""
        response = response or {}
        shared = self.choice_ids(data)
        right = sum(1 for pair in data["pairs"] if response.get(pair["id"]) == shared[pair["id"]])
        return Score(right / len(data["pairs"]))

    def key(self, data):
        return {"pairs": [{"left": pair["left"], "right": pair["right"]} for pair in data["pairs"]]}


class Essay(QuestionType):
    name = "essay"
    label = _l("Essay")

    def clean_response(self, data, order, raw):
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise InvalidResponse("write the answer as text")
        if len(raw) > MAX_ESSAY:
            raise InvalidResponse(f"at most {MAX_ESSAY} characters")
        return raw if raw.strip() else None

    def grade(self, data, response):
        """An unanswered essay scores 0 at once; a written one waits for a marker."""
        return Score(0.0) if response is None else Score(None)

    def key(self, data):
        return {"guidance": data.get("guidance", "")}


QUESTION_TYPES: dict[str, QuestionType] = {
    kind.name: kind for kind in (SingleChoice(), MultipleChoice(), TrueFalse(), FillBlank(), Matching(), Essay())
}
