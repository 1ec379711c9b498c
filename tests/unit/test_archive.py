"""The archive's pure parts: correction chains, the period filter's edges, expiry rows."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from lms.records.archive import ArchiveFilter, expiry_rows, group_entries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def entry(id, corrects_id=None, kind="practical", occurred_at=NOW, passed=True, valid_until=None, course_id=1):
    return SimpleNamespace(id=id, corrects_id=corrects_id, kind=kind, occurred_at=occurred_at, created_at=NOW,
                           passed=passed, valid_until=valid_until, course_id=course_id)


def test_a_correction_of_a_correction_joins_the_original_chain():
    original, first_fix, second_fix, other = entry(1), entry(2, 1), entry(3, 2), entry(4)
    groups = group_entries([original, other, second_fix, first_fix])
    assert [g.entry.id for g in groups] == [1, 4]
    assert [c.id for c in groups[0].corrections] == [2, 3] and groups[0].in_force.id == 3
    assert groups[0].corrected and not groups[1].corrected


def test_the_period_includes_both_end_days():
    period = ArchiveFilter(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
    assert period.covers(datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc))
    assert period.covers(datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc))
    assert not period.covers(datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))
    assert not period.covers(datetime(2026, 10, 31, 23, 59, tzinfo=timezone.utc))
    assert not ArchiveFilter().active and period.active


def test_expiry_rows_come_from_completions_in_force_that_have_expired():
    expired = entry(1, kind="course", valid_until=NOW - timedelta(days=1))
    valid = entry(2, kind="course", valid_until=NOW + timedelta(days=1))
    corrected_away = entry(3, kind="course", valid_until=NOW - timedelta(days=5))
    withdrawal = entry(4, 3, kind="course", passed=False)
    no_expiry = entry(5, kind="course")
    rows = expiry_rows(group_entries([expired, valid, corrected_away, withdrawal, no_expiry]), NOW)
    assert [row.completion.id for row in rows] == [1] and rows[0].moment == NOW - timedelta(days=1)


def test_filter_days_are_the_centers_days():
    from datetime import date, datetime, timezone
    from zoneinfo import ZoneInfo

    from lms.records.archive import ArchiveFilter

    shanghai = ArchiveFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2), tz=ZoneInfo("Asia/Shanghai"))
    assert shanghai.covers(datetime(2026, 3, 1, 17, 0, tzinfo=timezone.utc))  # 01:00 on 2 March in Shanghai
    assert not shanghai.covers(datetime(2026, 3, 1, 15, 59, tzinfo=timezone.utc))  # 23:59 on 1 March
    assert not shanghai.covers(datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc))  # 00:00 on 3 March
