"""File formats: course folders now; question bank files, GIFT, Aiken and spreadsheets later.

Parsers are pure functions from text to dataclasses; every problem is a ContentError that
names `path:line`.
"""
