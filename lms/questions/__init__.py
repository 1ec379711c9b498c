"""Question types and their grading; banks, formats and exams build on this registry."""
