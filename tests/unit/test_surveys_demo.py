"""The surveys demo on a small catalog: the new hire's latest course survey is left waiting, and a
course answered by fewer than 3 shows nothing. The whole demo is checked in test_demo_programme.py."""
from __future__ import annotations

from datetime import timedelta

from lms.surveys import results, services
from lms.surveys.demo import seed_demo


def test_the_new_hire_keeps_their_latest_course_survey(catalog, make_user, frozen_now):
    from tests.unit.test_surveys import complete, course_of

    now = frozen_now()
    first, second = course_of("basics-a"), course_of("basics-b")
    users = {number: make_user(employee_no=number) for number in ("E1001", "E1002", "E1003", "E1004")}
    users["T0001"] = make_user(roles=("trainer",), employee_no="T0001")
    complete(users["E1001"], first, at=now - timedelta(days=20))
    complete(users["E1001"], second, at=now - timedelta(days=5))
    for number in ("E1002", "E1003"):
        complete(users[number], second, at=now - timedelta(days=30))
    seed_demo(users, now)
    waiting = [(s.subject_type, s.subject_id) for s in services.waiting_surveys(users["E1001"], now)]
    assert waiting[0] == ("course", second.id)  # the latest, whatever happens to the others
    _, result = results.load_course_results_for(users["T0001"], second.id)
    assert (result.count, result.eligible, result.shown) == (1, 3, False)  # E1002 or E1003; the new hire waits
    _, result = results.load_course_results_for(users["T0001"], first.id)
    assert result.count == 0  # one completer: that one did not answer (a response rate below 100%)
