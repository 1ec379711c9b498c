"""`courses/ladder.yaml`: the star ladder's titles and the rules beyond courses, imported by `lms sync`.

    levels:
      1:
        title: 一星坐席
        min_months_since_hire: 3          # optional: months since the hire date
      2:
        title: 二星坐席
        min_months_since_promotion: 6     # optional: months since the last promotion
        min_average_score: 80             # optional: average % of exam and practical results
                                          # since the last promotion

The rules under level N are what it takes to be promoted *to* N, on top of every required course
of level N-1 being complete and not expired. Levels not listed have no extra rule and a default
title. The file is optional: without it only the courses count. Every key is type-checked by
lms.content.fields; the YAML is read by the shared content reader (no aliases, bounded size and depth).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from lms.content.errors import ContentError, _l
from lms.content.fields import Fields, field_name
from lms.content.frontmatter import parse_yaml_file

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

FILE_NAME = "ladder.yaml"
LEVEL_KEYS = {"title", "min_months_since_hire", "min_months_since_promotion", "min_average_score"}


@dataclass(frozen=True)
class LevelSpec:
    level: int
    title: str
    min_months_since_hire: int | None
    min_months_since_promotion: int | None
    min_average_score: float | None
    source_hash: str


def parse_ladder(text: str, path: str) -> tuple[list[LevelSpec], list[ContentError]]:
    doc = parse_yaml_file(text, path)
    if doc.errors:
        return [], doc.errors
    data = doc.data
    if not isinstance(data, dict) or set(data) != {"levels"} or not isinstance(data["levels"], dict):
        doc.error((), _l("the ladder file holds one key, %(field)s, mapping star levels (0 to 5) to their rules",
                         field=field_name("levels")))
        return [], doc.errors
    specs = []
    for level, rules in data["levels"].items():
        where = ("levels", str(level))  # YamlFile keys lines by the key's text
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 5:
            doc.error(where, _l("the star level %(level)r must be a whole number from 0 to 5", level=level))
            continue
        if not isinstance(rules, dict):
            doc.error(where, _l("star level %(level)s: give its rules as 'key: value' lines (title, ...)", level=level))
            continue
        fields = Fields(rules, doc.error, where)
        fields.unknown(LEVEL_KEYS)
        title = fields.text("title", required=True, limit=100)
        since_hire = fields.whole("min_months_since_hire", 0, 600)
        since_promotion = fields.whole("min_months_since_promotion", 0, 600)
        score = fields.number("min_average_score", 0, 100)
        if fields.failed:
            continue
        canonical = repr(sorted(rules.items(), key=lambda item: str(item[0])))
        specs.append(LevelSpec(level, title, since_hire, since_promotion, score,
                               hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    return (specs, []) if not doc.errors else ([], sorted(doc.errors))


def load_ladder(config: Mapping[str, Any]) -> tuple[list[LevelSpec], list[ContentError]]:
    """The importer's read step: courses/ladder.yaml, if there is one."""
    root = Path(config["LMS_COURSES_DIR"])
    path = root / FILE_NAME
    if not path.is_file():
        return [], []
    shown = str(path.relative_to(root.parent))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [], [ContentError(shown, 1, _l("the file is not UTF-8 text"))]
    return parse_ladder(text, shown)


def apply_ladder(session: Session, specs: list[LevelSpec], now):
    """The importer's write step (no commit): levels as the file says, unchanged ones untouched,
    levels gone from the file removed (their courses and history stay)."""
    from sqlalchemy import select  # here: parsing (`lms sync --check`) needs no database

    from lms.content.sync import SyncReport
    from lms.models import StarLevel

    report = SyncReport()
    existing = {row.level: row for row in session.scalars(select(StarLevel))}
    for spec in specs:
        row = existing.get(spec.level)
        if row is not None and row.source_hash == spec.source_hash:
            report.unchanged.append(str(spec.level))
            continue
        if row is None:
            row = StarLevel(level=spec.level)
            session.add(row)
            report.created.append(str(spec.level))
        else:
            report.updated.append(str(spec.level))
        row.title, row.source_hash = spec.title, spec.source_hash
        row.min_months_since_hire = spec.min_months_since_hire
        row.min_months_since_promotion = spec.min_months_since_promotion
        row.min_average_score = spec.min_average_score
    for level, row in existing.items():
        if level not in {spec.level for spec in specs}:
            session.delete(row)
            report.deleted.append(str(level))
    session.flush()
    return report
