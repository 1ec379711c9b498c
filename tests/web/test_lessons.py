"""Reading lessons: content, previous/next, mark complete, prerequisites, progress across devices."""
import re

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import LessonProgress


def test_lesson_page_shows_content_and_neighbours(catalog, client, make_user, login_as):
    login_as(make_user())
    html = client.get("/courses/basics-a/lessons/two", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h2>要点</h2>" in html and "basics-a 的第 2 课正文。" in html
    assert 'href="/courses/basics-a/lessons/one"' in html and 'href="/courses/basics-a/lessons/three"' in html
    assert "Lesson 2 of 3" in html


def test_mark_complete_moves_on_and_the_progress_bar_grows(catalog, client, make_user, login_as):
    login_as(make_user())
    response = client.post("/courses/basics-a/lessons/one/complete")
    assert response.location == "/courses/basics-a/lessons/two"
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'aria-valuenow="33"', html)
    client.post("/courses/basics-a/lessons/two/complete")
    response = client.post("/courses/basics-a/lessons/three/complete")
    assert response.location == "/courses/basics-a"
    assert 'aria-valuenow="100"' in client.get("/courses/basics-a").get_data(as_text=True)


def test_completing_twice_keeps_one_row_and_the_first_time(catalog, client, make_user, login_as, frozen_now):
    from datetime import timedelta

    user = make_user()
    login_as(user)
    first = frozen_now()
    client.post("/courses/basics-a/lessons/one/complete")
    frozen_now(first + timedelta(hours=2))
    client.post("/courses/basics-a/lessons/one/complete")
    rows = db.session.scalars(select(LessonProgress).where(LessonProgress.user_id == user.id)).all()
    assert len(rows) == 1 and rows[0].completed_at == first
    assert rows[0].opened_at == first + timedelta(hours=2)


def test_progress_follows_the_agent_to_another_device(catalog, app, make_user):
    user = make_user()
    phone, desk = app.test_client(), app.test_client()
    for device in (phone, desk):
        device.post("/login", data={"employee_no": user.employee_no, "password": "password123"})
    phone.post("/courses/basics-a/lessons/one/complete")
    html = desk.get("/courses/basics-a").get_data(as_text=True)
    assert 'aria-valuenow="33"' in html


def test_prerequisites_are_enforced_until_met(catalog, client, make_user, login_as):
    login_as(make_user())
    assert client.get("/courses/basics-b/lessons/one").status_code == 403
    assert client.post("/courses/basics-b/lessons/one/complete").status_code == 403
    for lesson in ("one", "two", "three"):
        client.post(f"/courses/basics-a/lessons/{lesson}/complete")
    assert client.get("/courses/basics-b/lessons/one").status_code == 200


def test_a_higher_level_course_is_closed_to_lower_agents(catalog, client, make_user, login_as):
    login_as(make_user(star_level=0))
    assert client.get("/courses/level-one/lessons/one").status_code == 403
    assert client.post("/courses/level-one/lessons/one/complete").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0


def test_unknown_or_retired_lessons_are_404(catalog, client, make_user, login_as):
    import shutil

    from lms.clock import utcnow
    from lms.content.sync import sync_courses

    login_as(make_user())
    assert client.get("/courses/basics-a/lessons/nine").status_code == 404
    client.get("/courses/elective-e/lessons/only")  # progress on it: it will be retired, not deleted
    shutil.rmtree(catalog / "0-03-e")
    sync_courses(db.session, catalog, utcnow())
    assert client.get("/courses/elective-e/lessons/only").status_code == 404
    assert client.get("/courses/elective-e").status_code == 404
