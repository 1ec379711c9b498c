"""The demo agents' training archives (`lms demo`), written through the real services.

Lessons are read, exams sat and marked, practicals observed and signed, customer evaluations
imported and promotions confirmed with the clock frozen at moments in the past, so every entry,
completion, certificate and star change is what the product itself would have written. The story
follows the content: each agent takes the required courses of the levels below theirs as the
folders define them (exams and practicals included), so new sample courses join the story by
themselves; only the agents' particular turns (a failed attempt, an expired refresher) are named.
"""
from __future__ import annotations

import heapq
import itertools
import random
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import select

from lms import clock
from lms.clock import add_months, months_between
from lms.extensions import db
from lms.models import Course, Exam, Practical, Scenario, User


@contextmanager
def frozen_at(moment: datetime):
    """The clock pinned to `moment` inside, as it was (running, or frozen by a test) after."""
    before = clock._frozen
    clock.freeze(moment)
    try:
        yield moment
    finally:
        clock.freeze(before)


UTC = timezone.utc
WORK_START, WORK_END = 1, 10  # UTC hours: 09:00-18:00 in China, where the sample center works

GOOD_COMMENTS = ("流程完整，话术规范，客户情绪稳定。", "结论先行，客户一次听明白。", "核实身份规范，解释清楚。",
                 "共情到位，方案有时间点和兜底。")
FAIL_WORK_ON = "查询账单前先由客户说出机主姓名和装机地址完成核实；金额和生效时间要照系统说，不凭经验。"


def _right_raw(kind: str, data: dict, order: list[str]) -> Any:
    """The fully right answer as the browser sends it (options by position in the attempt's order)."""
    if kind == "single":
        best = max(data["options"], key=lambda option: option.get("weight", 0))
        return str(order.index(best["id"]))
    if kind == "multi":
        return [str(order.index(option["id"])) for option in data["options"] if option.get("weight", 0) > 0]
    if kind == "truefalse":
        return "true" if data["answer"] else "false"
    if kind == "fill":
        return str(data["answers"][0])
    if kind == "matching":
        return {str(i): str(order.index(pair["id"])) for i, pair in enumerate(data["pairs"])}
    return "先让客户把话说完并具体致歉，报工号；由客户说出机主信息完成核实，查看历史工单；" \
           "给出有时间点和负责人的方案，在权限内提出补偿；需要升级的按规定升级，最后复述方案并告知回访时间。"


def _wrong_raw(kind: str, data: dict, order: list[str]) -> Any:
    if kind == "single":
        worst = min(data["options"], key=lambda option: option.get("weight", 0))
        return str(order.index(worst["id"]))
    if kind == "multi":
        return [str(i) for i in range(len(order))]  # everything ticked: the wrong ones cancel the right
    if kind == "truefalse":
        return "false" if data["answer"] else "true"
    if kind == "fill":
        return "不确定"
    if kind == "matching":
        wrong = {str(i): str((order.index(pair["id"]) + 1) % len(order)) for i, pair in enumerate(data["pairs"])}
        return wrong
    return "先安抚客户，再处理问题。"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _morning(moment: datetime) -> datetime:
    """The start of the working day of `moment`, or of the next one when it is later in the day."""
    start = _at(moment.date(), WORK_START, 30)
    return start if moment <= start else _at(moment.date() + timedelta(days=1), WORK_START, 30)


class Story:
    """Events of several agents in time order, each run with the clock frozen at its moment."""

    def __init__(self, now: datetime):
        from lms.promotions.services import ladder
        from lms.records.completion import live_courses

        self.now = now
        self.courses = live_courses()
        self.by_slug = {course.slug: course for course in self.courses}
        self.exams = {exam.course_id: exam for exam in db.session.scalars(
            select(Exam).where(Exam.course_id.is_not(None), Exam.retired_at.is_(None)))}
        self.scenarios = {scenario.slug: scenario for scenario in db.session.scalars(
            select(Scenario).where(Scenario.retired_at.is_(None)))}
        self.rules = ladder()
        staff = {user.employee_no: user for user in db.session.scalars(
            select(User).where(User.employee_no.in_(("A0001", "T0001", "M0001"))))}
        self.admin, self.trainer, self.mentor = (staff.get(no) for no in ("A0001", "T0001", "M0001"))
        self._queue: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._order = itertools.count()
        self.fallbacks: list[str] = []  # promotions the ladder would have refused (content changed)
        self._evaluations: dict[str, dict[str, float]] = {}  # month -> employee no. -> satisfaction

    def evaluation(self, user: User, period: tuple[int, int], score: float) -> datetime | None:
        """Add `user`'s satisfaction to the import of month `period` (the 3rd of the month after,
        10:30 in China); returns when, None when that is not yet."""
        year, month = period
        moment = _at(add_months(datetime(year, month, 1), 1).date() + timedelta(days=2), 2, 30)
        if moment >= self.now:
            return None
        key = f"{year:04d}-{month:02d}"
        if key not in self._evaluations:
            self._evaluations[key] = {}
            self.at(moment, lambda m: import_month(key, self._evaluations[key], m, self.admin))
        self._evaluations[key][user.employee_no] = score
        return moment

    def at(self, moment: datetime, action: Callable[[datetime], None]) -> None:
        if moment >= self.now:
            raise RuntimeError(f"the demo story reaches into the future: {moment.isoformat()}")
        heapq.heappush(self._queue, (moment, next(self._order), action))

    def run(self) -> None:
        while self._queue:
            moment, _order, action = heapq.heappop(self._queue)
            with frozen_at(moment):
                action(moment)

    def level_courses(self, level: int, kinds=("required",)) -> list[Course]:
        """The live courses of `level`, each after its prerequisites."""
        courses = [course for course in self.courses if course.star_level == level and course.kind in kinds]
        ordered: list[Course] = []

        def visit(course: Course, path: frozenset = frozenset()) -> None:
            if course in ordered or course.id in path:
                return
            for prerequisite in course.prerequisites:
                if prerequisite in courses:
                    visit(prerequisite, path | {course.id})
            ordered.append(course)

        for course in courses:
            visit(course)
        return ordered


class AgentStory:
    """One agent's archive, planned in time order on the shared `Story`."""

    def __init__(self, story: Story, user: User, seed: str, *, exam_scores=(82, 86, 88, 91, 94),
                 practical_scores=(84, 88, 92)):
        self.story = story
        self.user = user
        self.rng = random.Random(seed)
        self.hired = _at(user.hire_date, WORK_START)
        self.level = 0
        self.promoted_at: datetime | None = None
        self.done: dict[int, datetime] = defaultdict(lambda: self.hired)  # level -> its last required result
        self._practicals: dict[str, Practical] = {}
        self._observed: set[str] = set()  # scenarios planned: a course's practical is observed once
        self.passed: dict[str, datetime] = {}  # course slug -> when its last requirement was met
        # the results a course brings when the plan names none (the ladder's averages rise with the star)
        self.exam_scores, self.practical_scores = tuple(exam_scores), tuple(practical_scores)
        # their mentor observes them; agents without one (a five-star agent, the mentor) by a trainer
        mentor = story.mentor
        self.observer = mentor if mentor is not None and user.mentor_id == mentor.id else story.trainer

    # planning helpers
    def _note(self, level: int | None, moment: datetime) -> None:
        if level is not None:
            self.done[level] = max(self.done[level], moment)

    def _next_slot(self, moment: datetime) -> datetime:
        """A few minutes later, in working hours (a lesson read in a break between calls)."""
        later = moment + timedelta(minutes=self.rng.randint(25, 140))
        if later.hour >= WORK_END:
            later = _at(later.date() + timedelta(days=1), WORK_START, self.rng.randint(10, 50))
        return later

    def read(self, course: Course | None, start: datetime, *, count: int | None = None, first: int = 0,
             level: int | None = None) -> datetime:
        """Read `count` lessons of `course` (all), from lesson `first`, from `start`; returns the last moment."""
        from lms.lessons.services import _touch, complete_lesson

        lessons = course.live_lessons[first:][:count] if course is not None else []
        if not lessons:
            return start
        moment = start
        for lesson in lessons:
            lesson_id, final = lesson.id, lesson is lessons[-1]

            def act(_moment: datetime, lesson_id=lesson_id, final=final) -> None:
                from lms.models import Lesson

                lesson = db.session.get(Lesson, lesson_id)
                # complete_lesson also asks the completion rule, which no lesson before the last one
                # read in a sitting can satisfy (another lesson is unread): those are only marked read
                if final:
                    complete_lesson(self.user, lesson)
                else:
                    _touch(self.user, lesson, completed=True)

            self.story.at(moment, act)
            self._note(level, moment)
            last, moment = moment, self._next_slot(moment)
        return last

    def exam(self, course: Course | None, start: datetime, targets: list[float], *,
             level: int | None = None, gap_days: int = 3) -> datetime:
        """Sit the course's exam from `start`, one attempt per target percent, `gap_days` apart."""
        exam = self.story.exams.get(course.id) if course is not None else None
        if exam is None:
            return start
        moment = start
        for number, target in enumerate(targets, start=1):
            seed = f"{self.user.employee_no}-{exam.slug}-{number}"
            marked = self._marking_moment(moment)
            self.story.at(moment, lambda m, exam_id=exam.id, target=target, seed=seed, marked=marked:
                          self._sit(m, exam_id, target, seed, marked))
            self._note(level, marked)
            last = marked
            moment = moment + timedelta(days=gap_days, minutes=self.rng.randint(-90, 90))
        return last

    def _marking_moment(self, started: datetime) -> datetime:
        """When the trainer marks an essay of an attempt started then: next morning, sooner if recent."""
        submitted = started + timedelta(minutes=12)
        marked = _morning(submitted + timedelta(hours=12)) + timedelta(minutes=self.rng.randint(0, 120))
        if marked >= self.story.now - timedelta(minutes=10):
            marked = submitted + (self.story.now - submitted) / 2
        return marked

    def _sit(self, moment: datetime, exam_id: int, target: float, seed: str, marked: datetime) -> None:
        from lms.exams.saving import save_answer, save_answers
        from lms.exams.marking import Mark, mark_essays
        from lms.exams.services import start_attempt, submit_attempt
        from lms.models import AttemptQuestion

        user, rng = self.user, random.Random(seed)
        exam = db.session.get(Exam, exam_id)
        attempt = start_attempt(user, exam, moment, rng=rng)
        questions = list(db.session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
                                            .order_by(AttemptQuestion.position)))
        maximum = sum(aq.points for aq in questions) or 1.0
        essay_right = {aq.position: rng.choice((1.0, 0.8, 0.8, 0.6)) for aq in questions
                       if aq.question_type == "essay"}
        right_points = {aq.position: aq.points * essay_right.get(aq.position, 1.0) for aq in questions}
        wrong_points = {aq.position: aq.points * (0.2 if aq.question_type == "essay" else 0.0) for aq in questions}
        total = sum(right_points.values())
        wrong = set()
        for aq in rng.sample(questions, len(questions)):  # the agent slips on some, at random
            after = total - right_points[aq.position] + wrong_points[aq.position]
            if 100.0 * after / maximum >= target:
                wrong.add(aq.position)
                total = after
        step = min(50.0, exam.time_limit_minutes * 60 * 0.7 / max(len(questions), 1)) if exam.time_limit_minutes \
            else 50.0
        raws = {aq.position: (_wrong_raw if aq.position in wrong else _right_raw)(
            aq.question_type, aq.version.data, aq.option_order) for aq in questions}
        # the first answer as the page autosaves it, then the whole sheet with the submit button
        first = min(raws, default=None)
        if first is not None:
            save_answer(user, attempt.id, first, raws[first], 1, moment + timedelta(seconds=step))
        save_answers(user, attempt.id, raws, moment + timedelta(seconds=step * len(questions)))
        submitted = moment + timedelta(seconds=step * len(questions) + 40)
        attempt = submit_attempt(user, attempt.id, submitted)
        marked = max(marked, submitted + timedelta(minutes=1))
        if attempt.state == "pending" and self.story.trainer is not None:
            share = {position: 0.2 if position in wrong else fraction for position, fraction in essay_right.items()}
            marks = {aq.position: Mark(round(aq.points * share[aq.position], 1),
                                       "要点基本齐全。" if aq.position not in wrong else "缺少核实和升级步骤。")
                     for aq in questions if aq.question_type == "essay"}
            self.story.at(marked, lambda m, attempt_id=attempt.id, marks=marks: mark_essays(
                self.story.trainer, attempt_id, marks, m))

    def practical(self, slug: str, start: datetime, targets: list[float], *, level: int | None = None) -> datetime:
        """Observed by the mentor on `slug`, one observation per target percent (a fail, then a
        re-observation a week later)."""
        scenario = self.story.scenarios.get(slug)
        if scenario is None or self.observer is None or slug in self._observed:
            return start
        self._observed.add(slug)
        moment, previous = start, None
        for index, target in enumerate(targets):
            key = f"{slug}-{index}"
            scheduled = moment - timedelta(days=2)
            self.story.at(scheduled if previous is None else previous + timedelta(hours=1),
                          lambda m, key=key, previous=previous and f"{slug}-{index - 1}", day=moment.date():
                          self._schedule(m, scenario.id, key, previous, day))
            self.story.at(moment, lambda m, key=key, target=target: self._sign(m, key, target))
            self._note(level, moment)
            previous, moment = moment, moment + timedelta(days=7, minutes=self.rng.randint(-60, 60))
        return previous

    def _schedule(self, moment: datetime, scenario_id: int, key: str, previous: str | None, day: date) -> None:
        from lms.practicals.services import open_practical, schedule_reobservation

        mentor = self.observer
        if previous is not None:
            self._practicals[key] = schedule_reobservation(mentor, self._practicals[previous], scheduled_for=day,
                                                           now=moment)
        else:
            self._practicals[key] = open_practical(mentor, self.user, db.session.get(Scenario, scenario_id),
                                                   scheduled_for=day, now=moment)

    def _sign(self, moment: datetime, key: str, target: float) -> None:
        from lms.practicals.scoring import Criterion, score_rubric
        from lms.practicals.services import sign_off

        practical = self._practicals[key]
        scenario = practical.scenario
        script, rubric = scenario.script, scenario.rubric
        criteria = list(rubric.criteria)
        specs = [Criterion(c.key, c.weight, c.max_points, c.fatal, c.allow_na) for c in criteria]
        points = {c.key: c.max_points for c in criteria}
        failing = target < rubric.pass_percent
        fatal = [c for c in criteria if c.fatal]
        if failing and fatal:
            points[self.rng.choice(fatal).key] = 0
        for _round in range(3):  # lower a level here and there while the result stays at the target
            for criterion in self.rng.sample(criteria, len(criteria)):
                if points[criterion.key] <= (0 if not criterion.fatal else 1):
                    continue
                points[criterion.key] -= 1
                if score_rubric(specs, points, rubric.pass_percent).percent < target:
                    points[criterion.key] += 1
        passed = score_rubric(specs, points, rubric.pass_percent).passed
        sign_off(self.observer, practical, script_version_id=script.id, rubric_version_id=rubric.id,
                 marks={c.id: points[c.key] for c in criteria}, comments={},
                 overall_comment=self.rng.choice(GOOD_COMMENTS) if passed else "关键步骤有遗漏，一周后复评。",
                 work_on="" if passed else FAIL_WORK_ON, mood=self.rng.choice(("calm", "angry", "confused")),
                 now=moment)

    def evaluation(self, period: tuple[int, int], score: float, *, level: int | None = None) -> None:
        """The customer satisfaction of month `period`, in the import early in the month after."""
        moment = self.story.evaluation(self.user, period, score)
        if moment is not None:
            self._note(level, moment)

    def recent_evaluations(self, scores: list[float]) -> None:
        """One per month for the last len(scores) months before this one, the last score latest."""
        for back, score in zip(range(len(scores), 0, -1), scores):
            moment = add_months(self.story.now, -back)
            self.evaluation((moment.year, moment.month), score)

    def course(self, course: Course | None, start: datetime, *, exam: list[float] = (), practicals=None,
               level: int | None = None, first: int = 0, satisfaction: float | None = None) -> datetime:
        """Lessons (from lesson `first`), then the exam a day later, then its practicals, and (given
        `satisfaction`) the month's customer evaluation a course may ask for; returns when the last
        was done."""
        if course is None:
            return start
        moment = self.read(course, start, level=level, first=first)
        if course.id in self.story.exams:
            sitting = _morning(moment + timedelta(hours=20)) + timedelta(minutes=self.rng.randint(0, 300))
            moment = self.exam(course, sitting, list(exam) or [self.rng.choice(self.exam_scores)], level=level)
        for slug in course.practicals or []:
            targets = (practicals or {}).get(slug) or [self.rng.choice(self.practical_scores)]
            observed = _morning(moment + timedelta(days=2)) + timedelta(hours=self.rng.randint(1, 6))
            moment = self.practical(slug, observed, targets, level=level)
        if satisfaction is not None and course.evaluation_threshold is not None:
            self.evaluation((moment.year, moment.month), satisfaction, level=level)
        self.passed[course.slug] = moment
        return moment

    def whole_level(self, level: int, start: datetime, *, electives=(), exams=None, practicals=None,
                    satisfaction: float | None = None) -> datetime:
        """Every required course of `level` (and the electives named), one after the other."""
        courses = self.story.level_courses(level) + [self.story.by_slug[slug] for slug in electives
                                                     if slug in self.story.by_slug]
        moment = start
        for course in courses:
            required = course.kind == "required"
            moment = self.course(course, moment, exam=(exams or {}).get(course.slug, ()), practicals=practicals,
                                 level=level if required else None, satisfaction=satisfaction)
            moment = _morning(moment + timedelta(days=self.rng.randint(1, 3)))
            moment += timedelta(minutes=self.rng.randint(0, 90))
        return moment

    def renewed(self, course: Course | None, done: datetime, *, until: datetime | None = None,
                scores=(86, 90, 93)) -> datetime:
        """A refresher kept in force: from `done`, its lessons read again and its exam passed ten days
        before each expiry, while that is before `until` (now); returns the last result."""
        if course is None or not course.valid_months:
            return done
        until = until or self.story.now
        while True:
            renewal = _at((add_months(done, course.valid_months) - timedelta(days=10)).date(), 3, 15)
            if renewal >= until:
                return done
            self.read(course, renewal - timedelta(days=2))
            done = self.exam(course, renewal, [self.rng.choice(scores)])

    def promote(self, earliest: datetime | None = None) -> datetime:
        """The admin confirms the next star the moment the agent is eligible (an hour after the last
        requirement, or the day the ladder's months are reached)."""
        target = self.level + 1
        moment = max(self.done[self.level] + timedelta(hours=1), earliest or self.hired)
        rule = self.story.rules.get(target)
        if rule is not None and rule.min_months_since_hire:
            moment = max(moment, self._months_after(self.hired, rule.min_months_since_hire))
        if rule is not None and rule.min_months_since_promotion:
            moment = max(moment, self._months_after(self.promoted_at or self.hired, rule.min_months_since_promotion))
        self.story.at(moment, lambda m: self._promote(m))
        self.level, self.promoted_at = target, moment
        return moment

    @staticmethod
    def _months_after(start: datetime, months: int) -> datetime:
        moment = _at(add_months(start, months).date(), WORK_START, 30)
        while months_between(start.date(), moment.date()) < months:
            moment += timedelta(days=1)
        return moment

    def _promote(self, moment: datetime) -> None:
        from lms.certificates.services import issue_for_promotion
        from lms.promotions.services import NotEligible, confirm_promotion, level_title, record_star_change

        try:
            confirm_promotion(self.story.admin, self.user, moment, reason="达到晋升条件，确认晋升")
        except NotEligible:  # the content no longer matches the story: record the step as a manager would
            self.story.fallbacks.append(f"{self.user.employee_no} -> {self.user.star_level + 1}")
            change = record_star_change(self.user, self.user.star_level + 1, kind="promotion", actor=self.story.admin,
                                        reason="按晋升评审结果补录", now=moment)
            issue_for_promotion(change, level_title(change.to_level))
            db.session.commit()


def import_month(period: str, scores: dict[str, float], moment: datetime, actor: User | None) -> None:
    """The month's satisfaction file as the quality team sends it, through the evaluations import
    (which also records the completions a `customer_evaluation:` threshold held back)."""
    from lms.content.spreadsheets import Row, Table
    from lms.evaluations.services import COLUMNS, import_evaluations

    rows = [Row(number, {"employee_no": employee_no, "month": period, "satisfaction": f"{score:g}",
                         "sample_size": str(36 + (number * 7 + int(score)) % 40), "comment": ""})
            for number, (employee_no, score) in enumerate(sorted(scores.items()), start=2)]
    import_evaluations(Table(list(COLUMNS), rows), actor=actor, filename=f"满意度-{period}.xlsx", now=moment)


def write_stories(created: list[tuple[Any, User]], now: datetime) -> Story:
    """Plan the archive of every agent just created (demo accounts with their users), then write it
    in time order."""
    story = Story(now)
    plans = {"M0001": _mentor, "E1001": _new_hire, "E1002": _one_star, "E1003": _two_stars, "E1004": _three_stars,
             "E1005": _five_stars}
    for account, user in created:
        plan = plans.get(account.employee_no)
        if plan is not None and "agent" in account.roles:
            plan(AgentStory(story, user, account.employee_no, **SCORES.get(account.employee_no, {})), now)
    story.run()
    for account, user in created:  # whatever the content, the agent ends at the level the table says
        while "agent" in account.roles and account.hired and user.star_level < account.star_level:
            with frozen_at(now - timedelta(minutes=5)) as moment:
                AgentStory(story, user, account.employee_no)._promote(moment)
    return story


# The ladder asks for a rising average since the last promotion (85 for four stars, 90 for five):
# those who climbed that far scored that well.
SCORES = {"M0001": {"exam_scores": (87, 90, 92, 95), "practical_scores": (88, 92, 95)},
          "E1005": {"exam_scores": (92, 94, 96, 98, 100), "practical_scores": (92, 95, 97)}}


def _new_hire(agent: AgentStory, now: datetime) -> None:
    """E1001, hired 25 days ago: three lessons of the first course and one of the second read."""
    first = agent.story.level_courses(0)
    start = agent.hired + timedelta(days=1, hours=2)
    if first:
        moment = agent.read(first[0], start, count=max(len(first[0].live_lessons) - 1, 1))
        if len(first) > 1:
            agent.read(first[1], _morning(moment + timedelta(days=1)) + timedelta(hours=1), count=1)


def _onboarding(agent: AgentStory, **overrides) -> datetime:
    end = agent.whole_level(0, agent.hired + timedelta(days=1, hours=1), **overrides)
    agent.promote()
    return end


def _one_star(agent: AgentStory, now: datetime) -> None:
    """E1002: onboarding (systems exam passed at the second try), 1 star for a year; the level-1
    courses done over the last three months; complaint handling completed once satisfaction
    reached 85; emotion management (lessons, then its exam and practical) finished last week:
    eligible for 2 stars, waiting for the manager."""
    story = agent.story
    _onboarding(agent, electives=("communication-basics",), exams={"systems-basics": [64, 83]})
    agent.course(story.by_slug.get("complaint-handling"), _at((now - timedelta(days=80)).date(), 2, 10),
                 exam=[88], practicals={"repeated-outage-complaint": [92]}, level=1)
    agent.practical("repeated-outage-complaint", _at((now - timedelta(days=50)).date(), 3, 20), [92])
    agent.recent_evaluations([80, 82, 83, 84, 87, 90])
    agent.course(story.by_slug.get("emotion-management"), _at((now - timedelta(days=11)).date(), 2, 40), level=1)
    for course in story.level_courses(1):
        if course.slug not in ("complaint-handling", "emotion-management"):
            agent.course(course, _at((now - timedelta(days=40)).date(), 5), level=1)


def _two_stars(agent: AgentStory, now: datetime) -> None:
    """E1003: onboarding with a failed first observation of bill-went-up (passed on re-observation)
    and law and privacy passed at the second try; level 1 in its first months except emotion
    management, finished six months ago (promoted then); level 2 open: conflict resolution half
    read, the information-security refresher read and its exam failed twice, the last time two
    hours ago: one attempt left, the retake waits a day."""
    story = agent.story
    end = _onboarding(agent, electives=("communication-basics", "teamwork"),
                      exams={"law-and-privacy": [72, 88], "phone-etiquette": [94]},
                      practicals={"bill-went-up": [55, 86]})
    agent.practical("elderly-caller-tv-no-signal", end + timedelta(days=3), [90])
    start = agent.promoted_at + timedelta(days=8)
    complaint = story.by_slug.get("complaint-handling")
    moment = agent.course(complaint, start, exam=[82], level=1)
    if complaint is not None and complaint.evaluation_threshold is not None:
        agent.evaluation((moment.year, moment.month), 88, level=1)
    agent.read(story.by_slug.get("knowledge-updates"), moment + timedelta(days=12))
    emotion = story.by_slug.get("emotion-management")
    if emotion is not None:
        agent.read(emotion, moment + timedelta(days=30), count=2)
        # the lessons left, then its exam and practical
        agent.course(emotion, _at(add_months(now, -6).date(), 2, 5), first=2, level=1)
    for course in story.level_courses(1):
        if course not in (complaint, emotion):
            agent.course(course, _at(add_months(now, -7).date(), 3), level=1)
    agent.promote()
    agent.recent_evaluations([89, 91, 87, 92, 90, 93])
    conflict = story.by_slug.get("conflict-resolution")
    if conflict is not None:
        agent.read(conflict, _at(add_months(now, -4).date(), 3, 10), count=max(len(conflict.live_lessons) // 2, 1))
    refresher = story.by_slug.get("info-security-refresher")
    if refresher is not None:
        agent.read(refresher, _at((now - timedelta(days=21)).date(), 2, 30))
        exam = story.exams.get(refresher.id)
        if exam is not None:
            agent.exam(refresher, _at((now - timedelta(days=6)).date(), 6, 20), [66])
            agent.exam(refresher, _recent_working_moment(now), [74])


def _recent_working_moment(now: datetime) -> datetime:
    """An hour or more ago, in working hours, and less than a day ago."""
    moment = now - timedelta(hours=1, minutes=20)
    if moment.hour >= WORK_END - 1:
        moment = _at(moment.date(), WORK_END - 1, 30)
    elif moment.hour < WORK_START:
        moment = _at(moment.date() - timedelta(days=1), WORK_END - 1, 30)
    return moment


def _three_stars(agent: AgentStory, now: datetime) -> None:
    """E1004: onboarding and level 1 in their first year (promoted when eligible); at 2 stars
    conflict resolution and the refresher; 3 stars; the refresher renewed once, 11 months later;
    that renewal expired and nothing since; case studies half read."""
    story = agent.story
    _onboarding(agent, electives=("communication-basics", "teamwork"), exams={"law-and-privacy": [83]})
    start = agent.promoted_at + timedelta(days=10)
    complaint = story.by_slug.get("complaint-handling")
    moment = agent.course(complaint, start, exam=[58, 85], practicals={"repeated-outage-complaint": [88]}, level=1)
    if complaint is not None and complaint.evaluation_threshold is not None:
        agent.evaluation((moment.year, moment.month), 86, level=1)
    agent.practical("repeated-outage-complaint", moment + timedelta(days=5), [88])
    moment = agent.course(story.by_slug.get("emotion-management"), moment + timedelta(days=20), level=1)
    agent.read(story.by_slug.get("emergency-handling"), moment + timedelta(days=9))
    agent.practical("outage-queue", moment + timedelta(days=16), [90])
    for course in story.level_courses(1):
        if course.slug not in ("complaint-handling", "emotion-management"):
            agent.course(course, moment + timedelta(days=25), level=1)
    agent.promote()
    refresher = story.by_slug.get("info-security-refresher")
    # the refresher first done 26 months ago, renewed 10 days before that expired; the renewal
    # expired in turn two months ago and nothing since
    level_two = agent.promoted_at + timedelta(days=12)
    first = max(_at(add_months(now, -26).date(), 2, 40), level_two + timedelta(days=30))
    agent.course(story.by_slug.get("conflict-resolution"), level_two, practicals={"iptv-refund-outside-policy": [87]},
                 level=2)
    agent.read(story.by_slug.get("cross-department"), level_two + timedelta(days=25))
    if refresher is not None:
        agent.course(refresher, first, exam=[90], level=2)
    for course in story.level_courses(2):
        if course.slug not in ("conflict-resolution", "info-security-refresher"):
            agent.course(course, level_two + timedelta(days=40), level=2)
    agent.promote()
    if refresher is not None and refresher.valid_months:
        renewal = _at((add_months(first, refresher.valid_months) - timedelta(days=10)).date(), 3, 15)
        if agent.promoted_at < renewal < now:  # a new cycle: read the lessons again, then the exam
            agent.read(refresher, renewal - timedelta(days=2))
            agent.exam(refresher, renewal, [84])
    industry = story.by_slug.get("industry-practice")
    agent.read(industry, agent.promoted_at + timedelta(days=30))
    cases = story.by_slug.get("case-studies")
    if cases is not None:
        agent.read(cases, _at(add_months(now, -2).date(), 3, 5), count=max(len(cases.live_lessons) // 2, 1))
    agent.recent_evaluations([86, 91, 88, 84, 90, 92])


def _climb(agent: AgentStory, to_level: int, satisfaction: float) -> None:
    """Every required course of levels 0 to `to_level - 1` (and two electives),
    each level's results as the ladder asks, promoted the day they are eligible; the refresher kept
    in force from the day it was first passed."""
    story = agent.story
    electives = {0: ("communication-basics",), 3: ("industry-practice",)}
    start = agent.hired + timedelta(days=1, hours=1)
    for level in range(to_level):
        agent.whole_level(level, start, electives=electives.get(level, ()), satisfaction=satisfaction)
        agent.promote()
        start = agent.promoted_at + timedelta(days=agent.rng.randint(7, 14))
    refresher = story.by_slug.get("info-security-refresher")
    if refresher is not None and refresher.star_level < to_level:
        agent.renewed(refresher, agent.passed.get(refresher.slug, agent.hired))


def _mentor(agent: AgentStory, now: datetime) -> None:
    """M0001 陈刚, hired in early 2021, mentor of the agents above: the ladder to 4 stars in the
    system (the refresher kept in force), then the new four-star courses as they came: coaching
    skills done, the course for new mentors finished about a month ago, quality monitoring half read."""
    story = agent.story
    _climb(agent, 4, satisfaction=93)
    coaching = story.by_slug.get("coaching-skills")
    moment = agent.course(coaching, _at((now - timedelta(days=75)).date(), 2, 20), level=4)
    for course in story.level_courses(4, kinds=("elective",)):
        if "mentor" in course.slug:
            agent.course(course, max(_morning(moment + timedelta(days=14)), _at((now - timedelta(days=30)).date(), 3)))
    quality = story.by_slug.get("quality-monitoring")
    if quality is not None:
        agent.read(quality, _at((now - timedelta(days=8)).date(), 2, 45), count=max(len(quality.live_lessons) // 2, 1))
    agent.recent_evaluations([95, 93, 96, 94, 97, 95])


def _five_stars(agent: AgentStory, now: datetime) -> None:
    """E1005 周婷, five stars for about two years, on the team-leader track: the courses of the
    whole ladder with the averages it asks; at five stars the courses the others build on done
    (team-leader basics, finished about five weeks ago), the next half read in the last days, the rest
    begun."""
    story = agent.story
    _climb(agent, 5, satisfaction=95)
    level_five = story.level_courses(5)
    needed = {prerequisite.id for course in level_five for prerequisite in course.prerequisites
              if prerequisite.star_level == 5}
    moment = _at((now - timedelta(days=40)).date(), 2, 10)
    for course in level_five:
        if course.id in needed:
            moment = agent.course(course, moment)
            moment = _morning(moment + timedelta(days=2))
    moment = max(moment, _at((now - timedelta(days=12)).date(), 2, 30))
    rest = [course for course in level_five if course.id not in needed]
    for index, course in enumerate(rest):
        lessons = len(course.live_lessons)
        agent.read(course, moment, count=max(lessons // 2, 1) if index == 0 else 1)
        moment = _morning(moment + timedelta(days=3))
    agent.recent_evaluations([93, 95, 94, 96, 95, 97])


def edit_a_lesson(trainer: User, now: datetime) -> None:
    """T0001 adds this month's wording to the tariff lesson in the browser editor, three days ago: a
    new version of a lesson from files, kept until its folder changes."""
    from lms.authoring.services import save_lesson_text
    from lms.models import Lesson

    lesson = db.session.scalar(select(Lesson).join(Course).where(
        Course.slug == "knowledge-updates", Lesson.slug == "this-quarter-tariff-change", Lesson.retired_at.is_(None)))
    if lesson is None or lesson.versions[-1].origin != "file":
        return
    with frozen_at(_at((now - timedelta(days=3)).date(), 6, 40)) as moment:
        save_lesson_text(db.session, trainer, lesson, title=lesson.title, minutes=lesson.minutes,
                         body=lesson.body_md.rstrip() + "\n\n" + TARIFF_NOTE, now=moment)


TARIFF_NOTE = """## 补充口径（培训部更新）

最近不少客户问：“主动变更到新资费后，从什么时候开始按新价格收费？”统一答复：**次月 1 日起**按新资费计费，当月仍按原资费；办理当天就能在「星云CRM」的套餐信息里看到状态为“待生效”的新套餐。

> 参考口径：“您的新套餐已经办好了，从下个月 1 号开始按新价格收费，这个月还是按原来的价格。”
"""
