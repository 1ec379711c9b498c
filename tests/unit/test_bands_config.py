"""Result bands, the recertification lead time and the evaluation pass line from the environment."""
import pytest
from flask import render_template_string

from lms import create_app
from lms.config import parse_band_thresholds
from lms.records.services import band_for


@pytest.mark.parametrize("text, limits", [
    ("excellent=90,good=75", {"excellent": 90.0, "good": 75.0}),
    (" Excellent = 95.5 ; good=80 ", {"excellent": 95.5, "good": 80.0}),
    ("good:70,excellent:85", {"excellent": 85.0, "good": 70.0}),
    ('{"excellent": 92, "good": 81}', {"excellent": 92.0, "good": 81.0}),
])
def test_thresholds_are_read_as_pairs_or_json(text, limits):
    assert parse_band_thresholds(text) == limits


@pytest.mark.parametrize("text, complaint", [
    ("excellent=90", "missing good"),
    ("excellent=90,good=80,great=95", "unknown great"),
    ("excellent=80,good=80", "excellent (80) is not above good (80)"),
    ("excellent=70,good=80", "not above good"),
    ("excellent=101,good=80", "excellent is outside 0..100"),
    ("excellent=90,good=-1", "good is outside 0..100"),
    ("excellent=ninety,good=80", "excellent is not a number"),
    ("excellent=nan,good=80", "outside 0..100"),
    ('{"excellent": 90', "JSON cannot be read"),
    ('{"excellent": true, "good": 80}', "excellent is not a number"),
    ("[90, 80]", "excellent=90,good=80"),
    ("90,80", "excellent=90,good=80"),
])
def test_bad_thresholds_are_refused_naming_the_variable(text, complaint):
    with pytest.raises(RuntimeError, match="LMS_BAND_THRESHOLDS") as caught:
        parse_band_thresholds(text)
    assert complaint in str(caught.value)


@pytest.mark.parametrize("name, value", [
    ("LMS_BAND_THRESHOLDS", "excellent=80,good=90"),
    ("LMS_BAND_THRESHOLDS", "good=80"),
    ("LMS_RECERT_LEAD_DAYS", "400"),
    ("LMS_RECERT_LEAD_DAYS", "-1"),
    ("LMS_RECERT_LEAD_DAYS", "30.5"),
    ("LMS_RECERT_LEAD_DAYS", "soon"),
    ("LMS_EVALUATION_PASS_PERCENT", "100.1"),
    ("LMS_EVALUATION_PASS_PERCENT", "ninety"),
    ("LMS_EVALUATION_PASS_PERCENT", "inf"),
])
def test_create_app_refuses_a_bad_value_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        create_app({"SECRET_KEY": "x"})


def test_good_values_reach_the_configuration(monkeypatch):
    monkeypatch.setenv("LMS_BAND_THRESHOLDS", "excellent=95,good=70")
    monkeypatch.setenv("LMS_RECERT_LEAD_DAYS", "0")
    monkeypatch.setenv("LMS_EVALUATION_PASS_PERCENT", "85.5")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["LMS_BAND_THRESHOLDS"] == {"excellent": 95.0, "good": 70.0}
    assert app.config["LMS_RECERT_LEAD_DAYS"] == 0
    assert app.config["LMS_EVALUATION_PASS_PERCENT"] == 85.5
    with app.app_context():
        assert band_for(94.9, True) == "good"
        assert band_for(95, True) == "excellent"
        assert band_for(69.9, True) == "pass"
        assert band_for(99, False) == "needs_improvement"


def test_defaults_without_the_variables(monkeypatch):
    for name in ("LMS_BAND_THRESHOLDS", "LMS_RECERT_LEAD_DAYS", "LMS_EVALUATION_PASS_PERCENT"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["LMS_BAND_THRESHOLDS"] == {"excellent": 90.0, "good": 80.0}
    assert app.config["LMS_RECERT_LEAD_DAYS"] == 30
    assert app.config["LMS_EVALUATION_PASS_PERCENT"] == 90.0


def test_a_band_is_judged_on_the_percent_as_shown(app):
    assert band_for(89.96, True) == "excellent"  # shown as 90%
    assert band_for(89.94, True) == "good"  # shown as 89.9%
    assert band_for(None, True) is None and band_for(80, None) is None


SCALE = '{% from "exams/_macros.html" import band_scale, score with context %}'


def test_the_band_scale_shows_the_configured_thresholds(app):
    app.config["LMS_BAND_THRESHOLDS"] = {"excellent": 92.5, "good": 75.0}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string(SCALE + "{{ band_scale(60) }}")
    assert "excellent ≥ 92.5%, good ≥ 75%, pass ≥ 60% (the pass mark)" in html


def test_a_band_below_the_pass_mark_starts_at_the_pass_mark(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string(SCALE + "{{ band_scale(85) }}")
    assert "excellent ≥ 90%, good ≥ 85%, pass ≥ 85%" in html


@pytest.mark.parametrize("value, of, shown", [(12.345, 20, "12.3 / 20"), (7, None, "7"), (2 / 3, 1, "0.7 / 1"),
                                              (19.96, 20.0, "20 / 20")])
def test_scores_show_at_most_one_decimal(app, value, of, shown):
    with app.test_request_context():
        assert render_template_string(SCALE + "{{ score(value, of) }}", value=value, of=of) == shown
