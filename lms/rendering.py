"""Text -> bleach allow-list -> HTML. The only place that marks HTML safe.

Content is rendered once, when it is imported or saved; pages show the stored result through
the `stored_html` filter. `render_text` knows the four ways a question's text is written (Moodle's
formats, `lms.content.banks.TEXT_FORMATS`); `render_markdown` is the Markdown one, for everything else.

Every format ends in the same two steps:

1. `_mark_text_tags`: a `<` that does not open a real HTML tag becomes `&lt;`, so text that merely
   looks like a tag stays text: `<客户姓名>`, `<name>`, `<订单号>`, `a<b and c>d`. A real tag is an HTML
   element's name with HTML attribute names (`<b>`, `<a href=...>`, `<img src=x onerror=...>`);
   `<script>` and `<style>` go with their content. This step only ever turns markup into text, so it
   can never let anything through: what stays a tag is still judged by step 2.
2. bleach with the allow-list below (everything else stripped, links only http(s) and mail), then
   bare URLs become links (rel="nofollow").

Media (lessons and course introductions only): `render_markdown(text, media=resolver)`, where the
resolver maps a Markdown image's target ("media/x.png", as the author wrote it) to a `MediaRef` or None
(lms.media.store builds one for a course). Before step 1, a Markdown image whose target resolves becomes
an `<img src="/media/<sha256>.png" alt width height loading="lazy" decoding="async">` (with a title, a
<figure> with that title as <figcaption>), or for audio and video a player:
`<figure class="lesson-media audio"><audio controls preload="metadata" src="/media/<sha256>.mp3"></audio>
<figcaption>alt text</figcaption></figure>` (video: `<video controls preload="metadata" playsinline width
height>`); an image that does not resolve is removed. Step 2 then allows exactly those tags and
attributes, a `src` only when it is a same-origin `/media/<64 hex>.<ext>` address (another site, data:,
javascript:, //host are removed), and removes a media element left without a `src`. Without a resolver
(question text, feedback...) no image or player survives, as before.
"""
from __future__ import annotations

import functools
import html as html_lib
import logging
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import Callable

import bleach
import markdown
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

log = logging.getLogger(__name__)

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "th": ["align", "colspan", "rowspan"],
    "td": ["align", "colspan", "rowspan"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Media in lessons (render_markdown with a resolver): these tags, and for each attribute what it may say.
MEDIA_EXTENSIONS = {"image": ("png", "jpg", "jpeg", "webp", "gif"), "audio": ("mp3", "m4a", "wav", "ogg", "opus"),
                    "video": ("mp4", "webm")}
_MEDIA_SRC = {kind: re.compile(r"/media/[0-9a-f]{64}\.(?:%s)" % "|".join(extensions))
              for kind, extensions in MEDIA_EXTENSIONS.items()}
_DIGITS = re.compile(r"[1-9][0-9]{0,4}")
_ANY_TEXT = re.compile(r"[^<>]{0,500}", re.S)
_FLAG = re.compile(r"|controls|playsinline")  # a boolean attribute: present, nothing else
_MEDIA_ATTRIBUTES: dict[str, dict[str, re.Pattern]] = {
    "img": {"src": _MEDIA_SRC["image"], "alt": _ANY_TEXT, "title": _ANY_TEXT, "width": _DIGITS, "height": _DIGITS,
            "loading": re.compile("lazy"), "decoding": re.compile("async")},
    "audio": {"src": _MEDIA_SRC["audio"], "controls": _FLAG, "preload": re.compile("metadata|none"),
              "aria-label": _ANY_TEXT},
    "video": {"src": _MEDIA_SRC["video"], "controls": _FLAG, "playsinline": _FLAG,
              "preload": re.compile("metadata|none"), "width": _DIGITS, "height": _DIGITS, "aria-label": _ANY_TEXT},
    "figure": {"class": re.compile("lesson-media (?:image|audio|video)")},
    "figcaption": {},
}
MEDIA_TAGS = ALLOWED_TAGS | frozenset(_MEDIA_ATTRIBUTES)
_NEEDS_SRC = frozenset({"img", "audio", "video"})


@dataclass(frozen=True)
class MediaRef:
    """What a lesson's media reference stands for: its same-origin address and what the player needs."""
    url: str  # /media/<sha256>.<ext>
    kind: str  # image, audio, video
    width: int | None = None
    height: int | None = None
    content_type: str = ""


MediaResolver = Callable[[str], "MediaRef | None"]


def _media_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter with media: the base allow-list, plus _MEDIA_ATTRIBUTES' values."""
    if name in ALLOWED_ATTRIBUTES.get(tag, ()):
        return True
    pattern = _MEDIA_ATTRIBUTES.get(tag, {}).get(name)
    return pattern is not None and pattern.fullmatch(value or "") is not None
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list"]
SKIP_LINKIFY = frozenset({"pre", "code"})

# Moodle's formats (lms.content.banks.TEXT_FORMATS); anything else is shown as plain text.
FORMATS = ("markdown", "moodle", "plain", "html")

# Every HTML element name, current and obsolete, and the roots of SVG and MathML: a "tag" with one of
# these names is markup (kept when allowed, removed otherwise); any other name (<name>, <客户姓名>) is text.
HTML_ELEMENTS = frozenset(bleach.html5lib_shim.HTML_TAGS) | frozenset({
    "a", "abbr", "acronym", "address", "applet", "area", "article", "aside", "audio", "b", "base", "basefont",
    "bdi", "bdo", "bgsound", "big", "blink", "blockquote", "body", "br", "button", "canvas", "caption", "center",
    "cite", "code", "col", "colgroup", "data", "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div",
    "dl", "dt", "em", "embed", "fencedframe", "fieldset", "figcaption", "figure", "font", "footer", "form",
    "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "i",
    "iframe", "image", "img", "input", "ins", "isindex", "kbd", "keygen", "label", "legend", "li", "link",
    "listing", "main", "map", "mark", "marquee", "math", "menu", "menuitem", "meta", "meter", "multicol", "nav",
    "nextid", "nobr", "noembed", "noframes", "noscript", "object", "ol", "optgroup", "option", "output", "p",
    "param", "picture", "plaintext", "portal", "pre", "progress", "q", "rb", "rp", "rt", "rtc", "ruby", "s",
    "samp", "script", "search", "section", "select", "selectedcontent", "slot", "small", "source", "spacer",
    "span", "strike", "strong", "style", "sub", "summary", "sup", "svg", "table", "tbody", "td", "template",
    "textarea", "tfoot", "th", "thead", "time", "title", "tr", "track", "tt", "u", "ul", "var", "video", "wbr",
    "xmp",
})
# Elements removed with everything in them (their content is code, never text to read).
DROPPED_WITH_CONTENT = frozenset({"script", "style"})

# HTML attribute names (the HTML standard's index, and obsolete ones). A tag whose attributes are not all
# of these is text: in `a<b and c>d` "and" and "c" are words, not attributes.
HTML_ATTRIBUTES = frozenset("""
    abbr accept accept-charset accesskey action align alink allow allowfullscreen alt archive async
    autocapitalize autocomplete autocorrect autofocus autoplay axis background bgcolor blocking border
    cellpadding cellspacing char charoff charset checked cite class classid clear code codebase codetype color
    cols colspan command commandfor compact content contenteditable controls coords crossorigin data datetime
    declare decoding default defer dir dirname disabled download draggable enctype enterkeyhint face
    fetchpriority for form formaction formenctype formmethod formnovalidate formtarget frame frameborder headers
    height hidden high href hreflang hspace http-equiv id imagesizes imagesrcset inert inputmode integrity is
    ismap itemid itemprop itemref itemscope itemtype kind label lang language link list loading longdesc loop low
    manifest marginheight marginwidth max maxlength media method min minlength multiple muted name nohref
    nomodule nonce noresize noshade novalidate nowrap object open optimum part pattern ping placeholder
    playsinline popover popovertarget popovertargetaction poster preload profile readonly referrerpolicy rel
    required rev reversed role rows rowspan rules sandbox scheme scope scrolling selected shadowrootclonable
    shadowrootdelegatesfocus shadowrootmode shape size sizes slot span spellcheck src srcdoc srclang srcset
    standby start step style summary tabindex target text title translate type usemap valign value valuetype
    version vlink vspace width wrap writingsuggestions xmlns
""".split())
# Event handler attributes (onclick, onerror, ...): markup, removed with their tag's other attributes.
HTML_EVENTS = frozenset("""
    abort afterprint animationend animationiteration animationstart auxclick beforeinput beforematch
    beforeprint beforetoggle beforeunload blur cancel canplay canplaythrough change click close contextlost
    contextmenu contextrestored copy cuechange cut dblclick drag dragend dragenter dragleave dragover dragstart
    drop durationchange emptied ended error focus focusin focusout formdata gotpointercapture hashchange input
    invalid keydown keypress keyup languagechange load loadeddata loadedmetadata loadend loadstart
    lostpointercapture message messageerror mousedown mouseenter mouseleave mousemove mouseout mouseover mouseup
    mousewheel offline online pagehide pagereveal pageshow pageswap paste pause play playing pointercancel
    pointerdown pointerenter pointerleave pointermove pointerout pointerover pointerrawupdate pointerup
    popstate progress ratechange rejectionhandled reset resize scroll scrollend securitypolicyviolation seeked
    seeking select selectionchange selectstart slotchange stalled storage submit suspend timeupdate toggle
    touchcancel touchend touchmove touchstart transitioncancel transitionend transitionrun transitionstart
    unhandledrejection unload volumechange waiting webkitanimationend webkitanimationiteration
    webkitanimationstart webkittransitionend wheel
""".split())
_PREFIXED_ATTRIBUTE = re.compile(r"(?:data|aria)-[^\s]*|xml:[a-z]+|xmlns:[a-z]+|xlink:[a-z]+")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Tags that start or end a block in Moodle's auto-format: a line break beside one makes no <br>.
_BLOCK = (r"(?:address|article|aside|blockquote|center|dd|details|div|dl|dt|fieldset|figcaption|figure|footer|"
          r"form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul)")
_STARTS_WITH_BLOCK = re.compile(rf"^\s*(?:</?{_BLOCK}(?=[\s/>])|\x00)", re.I)
_ENDS_WITH_BLOCK = re.compile(rf"(?:</?{_BLOCK}(?:\s[^<>]*)?/?>|\x00)\s*$", re.I)
_PRE = re.compile(r"<pre(?=[\s>])[^>]*>.*?(?:</pre\s*>|\Z)", re.I | re.S)


def render_text(text: str, text_format: str = "markdown") -> str:
    """Render a question's text, written in `text_format`, to HTML that is safe to store and show.

    markdown  Markdown (render_markdown).
    plain     Moodle's plain text: every character as typed, line breaks kept, blank lines as paragraphs.
    moodle    Moodle's auto-format: like plain, but allowed HTML tags (<b>, <a href>, <br>...) work.
    html      HTML as written (sanitized); line breaks are HTML's, i.e. spaces.

    Any other format is shown as plain text. Never raises: text the renderers cannot handle is shown
    escaped, as plain text."""
    text = "" if text is None else str(text)
    if text_format == "markdown":
        return render_markdown(text)
    try:
        if text_format == "html":
            source = text
        elif text_format == "moodle":
            source = _line_breaks(text)
        else:  # plain, and any format this version does not know
            source = _line_breaks(_escape_plain(text))
        return _sanitize(source)
    except Exception:  # noqa: BLE001 - a page must show something; log what went wrong
        log.exception("rendering %s text failed; shown escaped", text_format)
        return _escaped_fallback(text)


def render_markdown(text: str, media: MediaResolver | None = None) -> str:
    """Render Markdown to HTML that is safe to store and show: scripts, styles, event handlers
    and unknown protocols are removed, links open nothing but http(s) and mail; text that only
    looks like a tag (<name>, <客户姓名>) is shown as typed.

    `media` resolves a Markdown image's target to a MediaRef (lessons, course introductions): images
    and players from the course's media (see the module's docstring). Without it images are removed."""
    text = "" if text is None else str(text)
    try:
        if media is None:
            return _markdown_without_media(text)
        html = markdown.markdown(text, extensions=[*EXTENSIONS, _MediaExtension(media)], output_format="html")
        return _sanitize(html, media=True)
    except Exception:  # noqa: BLE001 - e.g. nesting too deep for the Markdown parser
        log.exception("rendering Markdown failed; shown escaped")
        return _escaped_fallback(text)


@functools.lru_cache(maxsize=2048)
def _markdown_without_media(text: str) -> str:
    """A pure function of the text (no course media to resolve): rendered once per process."""
    return _sanitize(markdown.markdown(text, extensions=EXTENSIONS, output_format="html"))


def stored_html(html: str | None) -> Markup:
    """Jinja filter for HTML that render_text/render_markdown produced and the database stored."""
    return Markup(html or "")


# --- The shared last steps --------------------------------------------------------------------------

@functools.lru_cache(maxsize=2048)
def _sanitize(html: str, media: bool = False) -> str:
    """The allow-list and the linker: a pure function of its input, and the costly part of rendering
    (two html5lib parses), so the same HTML (a sync's unchanged lessons, a bank's "正确"/"错误",
    every test's sample course) is cleaned once per process."""
    if media:
        cleaned = bleach.Cleaner(tags=MEDIA_TAGS, attributes=_media_attribute, protocols=ALLOWED_PROTOCOLS,
                                 strip=True, strip_comments=True, filters=[_DropMediaWithoutSource]
                                 ).clean(_mark_text_tags(html))
    else:
        cleaned = bleach.clean(
            _mark_text_tags(html),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
        )
    return _Linker(callbacks=[bleach.callbacks.nofollow], skip_tags=SKIP_LINKIFY).linkify(cleaned)


class _DropMediaWithoutSource(Filter):
    """After the allow-list: an <img>, <audio> or <video> whose `src` was not a /media/ address (so
    bleach removed it) goes, with whatever an <audio>/<video> held."""

    def __iter__(self):
        skipping: list[str] = []
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if skipping:
                if kind == "StartTag" and name == skipping[-1]:
                    skipping.append(name)
                elif kind == "EndTag" and name == skipping[-1]:
                    skipping.pop()
                continue
            if kind in ("StartTag", "EmptyTag") and name in _NEEDS_SRC:
                if not any(key[1] == "src" for key in (token.get("data") or {})):
                    if kind == "StartTag" and name != "img":
                        skipping.append(name)
                    continue
            yield token


class _MediaTreeprocessor(Treeprocessor):
    """Markdown images whose target the resolver knows become images or players; others are removed."""

    def __init__(self, md, resolve: MediaResolver):
        super().__init__(md)
        self.resolve = resolve

    def run(self, root: etree.Element) -> None:
        parents = {child: parent for parent in root.iter() for child in parent}
        for image in [element for element in root.iter("img")]:
            parent = parents[image]
            try:
                ref = self.resolve(image.get("src", ""))
            except Exception:  # noqa: BLE001 - a broken resolver must not break the lesson
                log.exception("resolving %r failed", image.get("src"))
                ref = None
            if ref is None or ref.kind not in MEDIA_EXTENSIONS:
                _remove(parent, image)
                continue
            alt, title = image.get("alt", ""), image.get("title", "")
            alone = parent.tag == "p" and len(parent) == 1 and not (parent.text or "").strip() \
                and not (image.tail or "").strip() and parent in parents
            if ref.kind == "image":
                image.attrib = {"src": ref.url, "alt": alt, **_size(ref), "loading": "lazy", "decoding": "async"}
                if title:
                    image.set("title", title)
                if alone and title:
                    figure = _figure("image", title)
                    figure.insert(0, image)
                    image.tail = None
                    _replace(parents[parent], parent, figure)
                continue
            player = etree.Element(ref.kind, {"controls": "controls", "preload": "metadata", "src": ref.url})
            if alt:
                player.set("aria-label", alt)
            if ref.kind == "video":
                player.set("playsinline", "playsinline")
                player.attrib.update(_size(ref))
            figure = _figure(ref.kind, alt)
            figure.insert(0, player)
            if alone:
                _replace(parents[parent], parent, figure)
            elif parent.tag == "p" and parent in parents:  # inside a sentence: the player follows it
                _remove(parent, image)
                grandparent = parents[parent]
                grandparent.insert(list(grandparent).index(parent) + 1, figure)
            else:
                figure.tail = image.tail
                parent.insert(list(parent).index(image), figure)
                parent.remove(image)


def _size(ref: MediaRef) -> dict[str, str]:
    if ref.width and ref.height:
        return {"width": str(int(ref.width)), "height": str(int(ref.height))}
    return {}


def _figure(kind: str, caption: str) -> etree.Element:
    figure = etree.Element("figure", {"class": f"lesson-media {kind}"})
    if caption:
        etree.SubElement(figure, "figcaption").text = caption
    return figure


def _replace(parent: etree.Element, old: etree.Element, new: etree.Element) -> None:
    new.tail = old.tail
    parent.insert(list(parent).index(old), new)
    parent.remove(old)


def _remove(parent: etree.Element, element: etree.Element) -> None:
    """Remove `element`, keeping the text that followed it."""
    index = list(parent).index(element)
    if element.tail:
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


class _MediaExtension(Extension):
    def __init__(self, resolve: MediaResolver):
        super().__init__()
        self.resolve = resolve

    def extendMarkdown(self, md) -> None:  # noqa: N802 - Markdown's name
        # after "inline" (20), which makes the <img> elements
        md.treeprocessors.register(_MediaTreeprocessor(md, self.resolve), "lesson_media", 15)


class _SkipTagLinkifyFilter(LinkifyFilter):
    """bleach's LinkifyFilter, except that text inside skipped tags (<pre>, <code>) keeps its entities:
    bleach's passes that text on as it is, so the serializer escapes the '&' of `&lt;` once more and
    `<name>` in Markdown code would read `&lt;name&gt;`."""

    def __iter__(self):
        inside: list[str] = []
        for token in super().__iter__():
            kind = token["type"]
            if kind == "StartTag" and token["name"] in self.skip_tags:
                inside.append(token["name"])
            elif kind == "EndTag" and inside and token["name"] == inside[-1]:
                inside.pop()
            elif inside and kind == "Characters":
                yield from self.extract_entities(token)
                continue
            yield token


class _Linker(bleach.Linker):
    def linkify(self, text: str) -> str:
        if not text:
            return ""
        dom = self.parser.parseFragment(text)
        filtered = _SkipTagLinkifyFilter(source=self.walker(dom), callbacks=self.callbacks,
                                         skip_tags=self.skip_tags, parse_email=self.parse_email,
                                         url_re=self.url_re, email_re=self.email_re)
        return self.serializer.render(filtered)


def _escaped_fallback(text: str) -> str:
    return "".join(f"<p>{html_lib.escape(part)}</p>" for part in re.split(r"\n\s*\n", text) if part.strip())


# --- Text that looks like a tag -------------------------------------------------------------------

def _is_attribute(name: str) -> bool:
    return (name in HTML_ATTRIBUTES or (name.startswith("on") and name[2:] in HTML_EVENTS)
            or bool(_PREFIXED_ATTRIBUTE.fullmatch(name)))


# A tag as the HTML tokenizer reads it: '<' or '</', a name starting with an ASCII letter, attributes
# (a name, then maybe '=' and a value, quoted or not), '>'. Atomic groups: no backtracking, whatever the text.
_S = r"[ \t\n\r\f]"  # HTML's spaces (not Unicode's: '\u3000' is part of a name)
_VALUE = rf"""(?>{_S}*+={_S}*+(?>"[^"]*+"|'[^']*+'|[^ \t\n\r\f>"'][^ \t\n\r\f>]*+)?)?"""
_NAME = r"[^ \t\n\r\f/>][^ \t\n\r\f/>=]*+"
_TAG = re.compile(rf"<(/?)([A-Za-z][^ \t\n\r\f/>]*+)((?>[ \t\n\r\f/]*+{_NAME}{_VALUE})*+)[ \t\n\r\f/]*+>")
_ATTRIBUTE = re.compile(rf"[ \t\n\r\f/]*+({_NAME}){_VALUE}")


def _mark_text_tags(html: str) -> str:
    """`&lt;` for each '<' that opens no real HTML tag; <script> and <style> removed with their content.

    A real tag has an HTML element's name and (a start tag) HTML attribute names; comments and the doctype
    stay for bleach to remove. Anything else the HTML tokenizer would swallow (`<!x>`, `<?x>`, `</ x>`,
    `</>`, a tag never closed) is text too."""
    out: list[str] = []
    size = len(html)
    last_close = html.rfind(">")
    done = i = 0
    while True:
        i = html.find("<", i)
        if i < 0 or i + 1 >= size:
            break
        after = html[i + 1]
        if after == "!" and html.startswith("<!--", i):  # a comment: bleach removes it
            end = html.find("-->", i + 4)
            i = size if end < 0 else end + 3
            continue
        if after == "!" and html[i:i + 9].lower() == "<!doctype":
            end = html.find(">", i)
            i = size if end < 0 else end + 1
            continue
        if after not in _ASCII_LETTERS and after not in "!?/":
            i += 1  # '<' before a space, a digit, a Chinese character...: the tokenizer reads text
            continue
        tag = _TAG.match(html, i) if i < last_close else None
        if tag is None or not _is_tag(tag):
            out.append(html[done:i] + "&lt;")
            i = done = i + 1
            continue
        name = tag.group(2).lower()
        if name in DROPPED_WITH_CONTENT and not tag.group(1):
            close = re.compile(rf"</{name}[ \t\n\r\f/>]", re.I).search(html, tag.end())
            out.append(html[done:i])
            stop = html.find(">", close.end() - 1) if close else -1
            done = i = size if stop < 0 else stop + 1
            continue
        i = tag.end()
    out.append(html[done:])
    return "".join(out)


def _is_tag(tag: re.Match) -> bool:
    if tag.group(2).lower() not in HTML_ELEMENTS:
        return False
    return bool(tag.group(1)) or all(_is_attribute(name.lower()) for name in _ATTRIBUTE.findall(tag.group(3)))


# --- Line breaks (plain text and Moodle's auto-format) --------------------------------------------------

def _escape_plain(text: str) -> str:
    """Every character as typed: HTML escaped, and runs of spaces kept (as Moodle's plain text does)."""
    return re.sub(r"  +", lambda run: "&nbsp;" * (len(run.group(0)) - 1) + " ", html_lib.escape(text, quote=False))


def _line_breaks(text: str) -> str:
    """Blank lines separate paragraphs, other line breaks become <br>; in Moodle's auto-format a line
    break beside a block tag (<p>, <table>, <li>...) stays a plain one, and <pre> is left as it is."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return "\x00"

    text = _PRE.sub(keep, text)
    paragraphs = []
    for paragraph in re.split(r"\n[ \t]*\n\s*", text.strip("\n")):
        if not paragraph.strip():
            continue
        lines = paragraph.split("\n")
        parts = [lines[0]]
        for before, line in zip(lines, lines[1:]):
            plain_break = _ENDS_WITH_BLOCK.search(before) or _STARTS_WITH_BLOCK.match(line)
            parts.append(("\n" if plain_break else "<br>\n") + line)
        joined = "".join(parts)
        paragraphs.append(joined if _STARTS_WITH_BLOCK.match(paragraph) else f"<p>{joined}</p>")
    html = "\n".join(paragraphs)
    return re.sub("\x00", lambda _match: kept.pop(0), html) if kept else html
