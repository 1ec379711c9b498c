"""Problems found in content (files, uploads, forms), and the text that says them in the reader's language.

Parsers run where no request is (`lms sync`, a background job, a test) and their problems are read
later, on a page or in a terminal. So a message is kept untranslated, with its values, and
translated each time it is shown: `_l("%(field)s must be given", field=...)` gives a `Message`
whose str() speaks the language of the request it is shown in (the reader's), English outside one
(the command line). `ngettext` here is the same for counts ("1 problem", "3 problems").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import total_ordering
from typing import Iterable, Union

from markupsafe import escape


def gettext(msgid: str, **params) -> str:
    """Flask-Babel's gettext, imported when a message is first shown: parsing content (`lms sync
    --check`) makes messages but shows none unless something is wrong, and Flask-Babel with Babel's
    dates and time zones is 15 ms of the command's start-up."""
    from flask_babel import gettext as translate

    return translate(msgid, **params)


def _ngettext(singular: str, plural: str, num: int, **params) -> str:
    from flask_babel import ngettext as translate

    return translate(singular, plural, num, **params)


class Message:
    """A translatable text with its values, translated when shown (str(), a template, a % format).

    It behaves as Flask-Babel's LazyString (compared, hashed, sliced, added and formatted as its
    text), except that it is escaped in templates like any text (its values come from uploaded
    files), and `in` and repr() work on the translated text."""

    __slots__ = ("_func", "_args", "_kwargs")

    def __init__(self, func, *args, **kwargs):
        self._func, self._args, self._kwargs = func, args, kwargs

    def __str__(self) -> str:
        return str(self._func(*self._args, **self._kwargs))

    def __getattr__(self, name: str):  # str's methods: message.upper(), message.startswith(...)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(str(self), name)

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return repr(str(self))

    def __contains__(self, item) -> bool:
        return str(item) in str(self)

    def __len__(self) -> int:
        return len(str(self))

    def __getitem__(self, key):
        return str(self)[key]

    def __iter__(self):
        return iter(str(self))

    def __add__(self, other):
        return str(self) + other

    def __radd__(self, other):
        return other + str(self)

    def __mod__(self, other):
        return str(self) % other

    def __eq__(self, other) -> bool:
        return str(self) == other

    def __ne__(self, other) -> bool:
        return str(self) != other

    def __lt__(self, other) -> bool:
        return str(self) < other

    def __le__(self, other) -> bool:
        return str(self) <= other

    def __gt__(self, other) -> bool:
        return str(self) > other

    def __ge__(self, other) -> bool:
        return str(self) >= other

    def __hash__(self) -> int:
        return hash(str(self))


Text = Union[str, Message]


def _l(msgid: str, **params) -> Message:
    """A message translated when shown. Values that are Messages are translated with it."""
    return Message(gettext, msgid, **params)


def ngettext(singular: str, plural: str, num: int, **params) -> Message:
    """A message with a count, translated (and its plural form chosen) when shown; `%(num)s` is the count."""
    return Message(_ngettext, singular, plural, num, **params)


def _listed(items: tuple[str, ...], style: str) -> str:
    from babel import Locale
    from babel.lists import format_list
    from flask_babel import get_locale

    return format_list(list(items), style=style, locale=get_locale() or Locale("en"))


def listed(items: Iterable[str], *, style: str = "standard", quote: bool = True) -> Message:
    """Items as a list in the reader's language: 'a', 'b', and 'c' / 'a'、'b'和'c'; `style="or"`
    for alternatives. Items are quoted (they are keys or values written in files) unless `quote` is False."""
    items = tuple(f"'{item}'" if quote else str(item) for item in items)
    return Message(_listed, items, style)


@total_ordering
@dataclass(frozen=True)
class ContentError:
    """One problem: the file as shown to its author, the line (or spreadsheet row, `unit="row"`), the message.

    str() is the terminal's `path:line: message` (editors jump to it; `lms sync` prints it); a page
    shows `sentence()`, "path, line 12: ..." in the reader's language (templates call it through
    `__html__`). Errors sort by file, line, then message."""

    path: str
    line: int
    message: Text
    unit: str = field(default="line", compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def sentence(self) -> str:
        """The problem as a person reads it, in the current language."""
        if not self.path:
            return str(self.message)
        if self.line < 1:
            return gettext("%(path)s: %(message)s", path=self.path, message=self.message)
        if self.unit == "row":
            return gettext("%(path)s, row %(line)s: %(message)s", path=self.path, line=self.line,
                           message=self.message)
        return gettext("%(path)s, line %(line)s: %(message)s", path=self.path, line=self.line, message=self.message)

    def __html__(self) -> str:
        return str(escape(self.sentence()))

    def __lt__(self, other: ContentError) -> bool:
        if not isinstance(other, ContentError):
            return NotImplemented
        if (self.path, self.line) != (other.path, other.line):  # most comparisons end here, untranslated
            return (self.path, self.line) < (other.path, other.line)
        return str(self.message) < str(other.message)


class ContentInvalid(Exception):
    """Raised with every problem found, so one run reports them all and imports nothing."""

    def __init__(self, errors: list[ContentError]):
        super().__init__(ngettext("%(num)s problem", "%(num)s problems", len(errors)))
        self.errors = sorted(errors)
