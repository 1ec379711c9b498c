"""Micro-lessons: reading, previous/next, and marking complete."""
