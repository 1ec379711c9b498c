"""Timed theory exams: drawing, sitting with answers saved as given, closing on time, grading,
essay marking, results into the training record, and the trainer's exam editor."""
