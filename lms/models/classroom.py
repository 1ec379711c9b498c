"""Classroom sessions, who is invited or signed up (with the waiting list), and attendance."""
from __future__ import annotations
