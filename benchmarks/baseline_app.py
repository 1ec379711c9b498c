"""The baseline for exam_storm.py: a bare Flask + SQLAlchemy app whose one endpoint inserts one row
(and, to tell that row's cost from the request's, a second that does nothing).

Served by gunicorn exactly as `lms serve` serves the product (same worker class and count, same
database), so the ratio of the two throughputs shows what the product's own work costs.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import lms  # noqa: F401  (registers the same SQLite pragmas: WAL, foreign keys, busy timeout)
from lms.sqlite import engine_options


class Base(DeclarativeBase):
    pass



class Row(Base):
    __tablename__ = "baseline_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["LMS_DATABASE_URL"]
    # the product's database settings, so the ratio measures the product's own work per save
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(os.environ["LMS_DATABASE_URL"], {"pool_pre_ping": True})
    database = SQLAlchemy(metadata=Base.metadata)
    database.init_app(app)

    @app.post("/save")
    def save():
        payload = request.get_json()
        database.session.add(Row(slot=payload["slot"], payload=payload))
        database.session.commit()
        return jsonify({"saved": True})

    @app.get("/bare")
    def bare():  # the same request with no database work: what the insert and its commit add
        return jsonify({"saved": False})

    return app


def create_table(database_url: str) -> None:
    """Made once by the benchmark before the workers start (workers racing to create it would fail)."""
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
