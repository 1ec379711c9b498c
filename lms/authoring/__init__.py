"""Courses and lessons written in the browser: the same parser and errors as `lms sync`, a new version on
every save, media by upload, lesson order, and an export back to the folder format."""
