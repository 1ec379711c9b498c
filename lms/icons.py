"""`icon(name, label=None)`: a Tabler outline icon inlined as SVG, for templates.

The icons are files under static/vendor/tabler-icons/ (MIT, see its LICENSE), copied from the npm
package `@tabler/icons`; only the ones the product uses are vendored. Inline SVG rather than <img> or a
sprite: it takes the text colour (stroke="currentColor"), needs no extra request and works under the
strict CSP. Each file is read once per process.

Decorative by default (aria-hidden, the text beside it says what it means); give `label` for an icon
that stands alone, e.g. {{ icon('bell', _('Inbox')) }}. An unknown name is a programming error: it
raises under TESTING or DEBUG, so a typo fails the tests instead of showing an empty gap.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache

from flask import current_app, has_app_context
from markupsafe import Markup, escape

from lms.config import PROJECT_ROOT

ICON_DIR = PROJECT_ROOT / "static" / "vendor" / "tabler-icons"
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BODY = re.compile(r"<svg\b[^>]*>(.*)</svg>", re.S)
_INVISIBLE = re.compile(r'<path stroke="none" d="M0 0h24v24H0z" fill="none"\s*/>')  # Tabler's bounding box
log = logging.getLogger(__name__)


class UnknownIcon(LookupError):
    """No vendored icon has this name (copy it from the npm package into ICON_DIR)."""


@lru_cache(maxsize=None)
def _body(name: str) -> str:
    """The drawing inside the file's <svg> element, whitespace squeezed. Raises UnknownIcon."""
    path = ICON_DIR / f"{name}.svg"
    if not _NAME.match(name) or not path.is_file():
        raise UnknownIcon(name)
    match = _BODY.search(path.read_text(encoding="utf-8"))
    if match is None:
        raise UnknownIcon(name)
    body = _INVISIBLE.sub("", match.group(1))
    return re.sub(r">\s+<", "><", body.strip())


def available() -> list[str]:
    """Every vendored icon name, sorted."""
    return sorted(path.stem for path in ICON_DIR.glob("*.svg"))


def icon(name: str, label: str | None = None, class_: str = "") -> Markup:
    """The SVG markup of icon `name`; with `label` it is announced (role="img"), else hidden from
    assistive technology. `class_` adds classes after "icon"."""
    try:
        body = _body(name)
    except UnknownIcon:
        if not has_app_context() or current_app.testing or current_app.debug:
            raise
        log.error("unknown icon %r", name)
        return Markup("")
    classes = f"icon icon-{name}" + (f" {escape(class_)}" if class_ else "")
    if label:
        a11y = f'role="img" aria-label="{escape(label)}"'
    else:
        a11y = 'aria-hidden="true" focusable="false"'
    return Markup(
        f'<svg class="{classes}" xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" '
        f'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        f'{a11y}>{body}</svg>')
