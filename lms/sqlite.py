"""The embedded SQLite database tuned for several gunicorn workers.

SQLite allows one writer at a time. Its own wait for the write lock (the busy handler) sleeps in
growing steps of up to 100 ms, so under a burst of saves most of the time goes to sleeping. Here a
write transaction first queues on an exclusive file lock next to the database: the kernel wakes
the next writer the moment the previous one commits. Reads never take the lock (WAL mode lets
them run beside the writer).
"""
from __future__ import annotations

import fcntl
import os
import sqlite3

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# FULL: every commit is on disk (the WAL fsynced) before it is acknowledged, so an answer the
# server has acknowledged survives a power cut. NORMAL would fsync only at checkpoints and can
# lose the last commits; it is accepted here only so benchmarks/exam_storm.py can measure the cost.
SYNCHRONOUS_MODES = ("FULL", "EXTRA", "NORMAL")


def synchronous_mode() -> str:
    mode = os.environ.get("LMS_SQLITE_SYNCHRONOUS", "FULL").strip().upper() or "FULL"
    if mode not in SYNCHRONOUS_MODES:
        raise RuntimeError(f"LMS_SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_MODES)}, not {mode!r}")
    return mode


def mmap_bytes() -> int:
    """How much of the database file SQLite reads through a memory map (LMS_SQLITE_MMAP_MB, default
    1024; 0: none). A page read is then a memory access instead of a read() system call and a copy:
    on the 230 MB database of a 3,000-agent year, the mentors report's year of practicals went from
    90 to 50 ms (half of it was system time). Writes still go through the WAL."""
    value = os.environ.get("LMS_SQLITE_MMAP_MB", "1024").strip() or "1024"
    if not value.isdigit():
        raise RuntimeError(f"LMS_SQLITE_MMAP_MB must be a whole number of megabytes (0: no memory map), not {value!r}")
    return int(value) << 20


def apply_pragmas(connection: sqlite3.Connection) -> None:
    """WAL lets readers run beside the one writer; SQLite leaves foreign keys off unless asked;
    synchronous=FULL makes every acknowledged commit durable; reads go through a memory map."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA synchronous={synchronous_mode()}")
    cursor.execute(f"PRAGMA mmap_size={mmap_bytes()}")
    cursor.close()


class _QueueingCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        self.connection.queue_for_write(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        self.connection.queue_for_write(sql)
        return super().executemany(sql, seq_of_parameters)


class QueueingConnection(sqlite3.Connection):
    """A connection whose write transactions take turns on `<database>-writelock`."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        path = os.fspath(database)
        self._lock_fd = None
        if path not in ("", ":memory:") and not path.startswith("file:"):
            self._lock_fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
        self._holding = False

    def cursor(self, factory=None):
        return super().cursor(factory or _QueueingCursor)

    def queue_for_write(self, sql: str) -> None:
        # Python's sqlite3 opens the transaction at the first write statement: queue just before it.
        if self._lock_fd is None or self._holding or self.in_transaction:
            return
        if sql.lstrip()[:7].upper().startswith(_WRITES):
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._holding = True

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self):
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release()

    def close(self):
        try:
            super().close()
        finally:
            self._release()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


ANALYSIS_LIMIT = 1000  # rows sampled per index: ANALYZE takes milliseconds even on a big database


def refresh_statistics(engine) -> bool:
    """Gather the statistics SQLite's query planner uses (ANALYZE, sampled), on SQLite only.

    Nothing gathers them on its own (PostgreSQL's autovacuum does), and without them the planner
    can pick a poor index: on a 3,000-agent center the mentor home's latest-exams query chose the
    index on (state, deadline) over the one on user_id, 63 ms instead of 2.8 ms. `lms serve` and
    `lms demo` run it before serving, so every start (each deploy) plans with the data as it is."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as connection:
        connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        connection.exec_driver_sql("ANALYZE")
    return True


def engine_options(url: str, options: dict) -> dict:
    """Engine options for `url`: for a SQLite file, connections that queue their writes."""
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return options
    connect_args = {**options.get("connect_args", {}), "factory": QueueingConnection}
    return {**options, "connect_args": connect_args}
