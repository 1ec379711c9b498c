"""The printable certificate and the public verification page."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.certificates.services import issue_for_promotion
from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import Certificate, Course, RecordEntry
from lms.promotions.services import record_star_change
from lms.records.services import add_entry
from tests.conftest import assert_access

EN = {"Accept-Language": "en"}


def course(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


@pytest.fixture
def holder(make_user):
    return make_user(employee_no="E7788", name="李静", team="投诉专席组", star_level=2, preferred_language="en")


def certificate_for(user, slug: str) -> Certificate:
    for lesson in course(slug).live_lessons:
        complete_lesson(user, lesson)
    return db.session.scalar(select(Certificate).where(Certificate.user_id == user.id,
                                                       Certificate.course_id == course(slug).id))


@pytest.fixture
def certificate(catalog, holder, frozen_now):
    frozen_now()
    return certificate_for(holder, "refresh")


# --- the printable page ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["anonymous", "self", "other agent", "mentor", "other mentor", "trainer", "admin"])
def test_the_certificate_page_is_for_whoever_may_read_the_archive(certificate, holder, client, make_user,
                                                                   login_as, role):
    roles = {"other agent": ("agent",), "other mentor": ("mentor", "agent"), "trainer": ("trainer",),
             "admin": ("admin",)}
    if role == "self":
        login_as(holder)
    elif role == "mentor":
        mentor = make_user(roles=("mentor", "agent"))
        holder.mentor = mentor
        db.session.commit()
        login_as(mentor)
    elif role != "anonymous":
        login_as(make_user(roles=roles[role]))
    response = client.get(f"/certificates/{certificate.id}")
    assert_access(response, role, {"self", "mentor", "trainer", "admin"})


def test_the_certificate_shows_what_was_earned_and_how_to_verify_it(certificate, holder, client, login_as):
    login_as(holder)
    html = client.get(f"/certificates/{certificate.id}").get_data(as_text=True)
    assert "李静" in html and "课程 refresh" in html
    assert certificate.code in html
    assert f"http://localhost/verify/{certificate.code}" in html
    assert "Valid until" in html
    assert "css/certificate.css" in html


def test_unknown_certificates_are_404(app, client, make_user, login_as):
    login_as(make_user(roles=("admin",)))
    assert client.get("/certificates/99999").status_code == 404


def test_a_promotion_certificate_falls_back_to_the_level_name(app, holder, client, login_as, frozen_now):
    now = frozen_now()
    change = record_star_change(holder, 3, kind="promotion", actor=None, reason="", now=now)
    promotion = issue_for_promotion(change, "")
    db.session.commit()
    login_as(holder)
    html = client.get(f"/certificates/{promotion.id}").get_data(as_text=True)
    assert "3-star agent" in html and "has been promoted to" in html
    public = client.get(f"/verify/{promotion.code}", headers=EN).get_data(as_text=True)
    assert "3-star agent" in public and "Valid" in public


# --- public verification --------------------------------------------------------------------------

def test_a_valid_certificate_is_confirmed_without_revealing_anything_else(certificate, holder, client):
    response = client.get(f"/verify/{certificate.code}", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "李静" in html and "课程 refresh" in html and "status-valid" in html
    assert holder.employee_no not in html and holder.team not in html
    assert f"/certificates/{certificate.id}" not in html and "%" not in html.split("<main", 1)[1]


@pytest.mark.parametrize("typed", ["lower", "spaced", "bare"])
def test_codes_typed_from_paper_find_the_certificate(certificate, client, typed):
    code = {"lower": certificate.code.lower(), "spaced": certificate.code.replace("-", " "),
            "bare": certificate.code.replace("-", "")}[typed]
    response = client.get(f"/verify/{code}", headers=EN, follow_redirects=True)
    assert response.status_code == 200 and "status-valid" in response.get_data(as_text=True)
    form = client.get("/verify", query_string={"code": code}, headers=EN, follow_redirects=True)
    assert form.status_code == 200 and "status-valid" in form.get_data(as_text=True)


def test_an_expired_certificate_says_so(certificate, client, frozen_now):
    frozen_now(certificate.valid_until + timedelta(days=1))
    html = client.get(f"/verify/{certificate.code}", headers=EN).get_data(as_text=True)
    assert "status-expired" in html and "has expired" in html


def test_a_withdrawn_certificate_says_so(certificate, holder, client, frozen_now):
    entry = db.session.get(RecordEntry, certificate.record_entry_id)
    add_entry(user=holder, kind="course", title=entry.title, course=entry.course, passed=False, corrects=entry,
              reason="recorded in error", occurred_at=frozen_now())
    db.session.commit()
    html = client.get(f"/verify/{certificate.code}", headers=EN).get_data(as_text=True)
    assert "status-withdrawn" in html and "was withdrawn" in html


def test_an_unknown_code_is_a_404_that_says_so(app, client):
    response = client.get("/verify/ZZZZ-ZZZZ-ZZZZ", headers=EN)
    assert response.status_code == 404 and "No certificate has the code ZZZZ-ZZZZ-ZZZZ" in response.get_data(
        as_text=True)
    assert client.get("/verify/!!!!", headers=EN).status_code == 404
    assert client.get("/verify", query_string={"code": "0000"}, headers=EN).status_code == 404


def test_the_verify_form_is_public(app, client):
    response = client.get("/verify", headers=EN)
    assert response.status_code == 200 and 'name="code"' in response.get_data(as_text=True)
