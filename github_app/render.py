"""Issue rendering: the title, body, labels and hidden marker of a submission.

Pure functions (SPEC §5): data in, text out, no I/O after the templates load on
first use (not at import: a cold start that renders nothing never reads them).
The fixed wording lives in ``github_app/templates/issue.toml``.

Untrusted text reaches GitHub here, so the body is built to be inert:

- ``@mentions`` get a zero-width space (U+200B) after the ``@``. GitHub only
  mentions ``@`` directly followed by a letter or digit, so nobody is notified
  while the text reads the same (Renovate does the same). It is the
  raw character, not ``&#8203;``, because an entity would show literally inside
  code spans. Email addresses keep their ``@`` (GitHub never reads them as
  mentions, and mangling them would break their mailto links).
- Cross-references (``#12``, ``org/repo#12``, ``GH-12``, links to issues, pull
  requests and discussions) get the same zero-width space, so no other issue or
  pull request gets a timeline entry; ``&#35;`` and the like count as ``#``.
- ``<sub>``, ``<details>`` and ``<summary>`` tags in untrusted text get it after
  the ``<``, so a description cannot imitate the footer or the context table.
- HTML comments are removed, so the only ``<!--`` in a body is our marker.
- Titles lose bidirectional overrides and zero-width characters.
- Metadata, names and app names are escaped as inline text.
- The submitter's email never appears, even where they typed it themselves.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from string import Template

from msgspec import Struct

from bridge.domain import Source, SubmissionContent

BODY_LIMIT = 65_536
"""GitHub's issue body limit; counted here in UTF-16 code units, its strictest reading."""

TITLE_LIMIT = 256
MARKER_PREFIX = "featurebridge:"

_MAX_ID_LENGTH = 200
_MAX_NAME_LENGTH = 100
_MAX_CELL_LENGTH = 1_000
# Upstream validation keeps metadata near 2 KiB; this bound only guarantees that
# the table can never crowd the description out of the body.
_CONTEXT_BUDGET = 16_384

_ZWSP = "\u200b"
_ZWJ = "\u200d"


@cache
def _templates() -> dict[str, Template]:
    path = resources.files("github_app") / "templates" / "issue.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    flat: dict[str, Template] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{sub}": Template(str(text)) for sub, text in value.items()})
        else:
            flat[key] = Template(str(value))
    return flat


class RenderedIssue(Struct, frozen=True):
    """What the bridge sends to GitHub for one submission."""

    title: str
    body: str
    labels: tuple[str, ...]
    marker: str  # the exact hidden marker string included in body


# --- markers -----------------------------------------------------------------

# Bounded to one comment: a lazy match across ``-->`` would swallow a forged
# or broken comment and the real marker after it together.
_MARKER_RE = re.compile(rf"<!--\s*{MARKER_PREFIX}\s*((?:(?!-->).)*?)\s*-->", re.DOTALL)


def submission_marker(app_id: str, submission_id: str) -> str:
    """The hidden marker naming a submission's issue.

    ``<!-- featurebridge:{"app":"mobile","submission":"..."} -->``: compact
    JSON, keys in that order. ``<``, ``>`` and ``&`` are JSON-escaped so no id
    can end the comment early. Raises ``ValueError`` for an empty or absurdly
    long id.
    """
    for name, value in (("app_id", app_id), ("submission_id", submission_id)):
        if not value or len(value) > _MAX_ID_LENGTH:
            raise ValueError(f"{name} must be 1-{_MAX_ID_LENGTH} characters, got {value!r:.60}")
    payload = json.dumps({"app": app_id, "submission": submission_id}, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<!-- {MARKER_PREFIX}{payload} -->"


def parse_marker(body: str | None) -> tuple[str, str] | None:
    """``(app_id, submission_id)`` of the first submission marker in an issue body.

    Tolerates any surrounding text and extra whitespace inside the comment.
    Comments that are not a well-formed submission marker (broken JSON, missing
    or non-string ids) are skipped; ``None`` when none is found.
    """
    for match in _MARKER_RE.finditer(body or ""):
        try:
            data = json.loads(match.group(1))
        except ValueError:
            continue
        if isinstance(data, dict):
            app, submission = data.get("app"), data.get("submission")
            if isinstance(app, str) and app and isinstance(submission, str) and submission:
                return app, submission
    return None


# --- text hygiene ------------------------------------------------------------

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TITLE_SPACE_RE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
# Bidirectional embeddings, overrides, isolates and marks; zero-width spaces,
# joiners and the BOM: in a title they only hide or reorder what it says.
_INVISIBLE_RE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# HTML and CommonMark comments: ``<!-->`` and ``<!--->`` are complete, and an
# unterminated one hides everything after it.
_COMMENT_RE = re.compile(r"<!--(?:-?>|.*?(?:--!?>|\Z))", re.DOTALL)
# GitHub decodes character references before looking for mentions, so
# ``&#64;name`` is as much a mention as ``@name``.
_AT = r"(?:@|&\#0*64(?:;|(?![0-9]))|&\#[xX]0*40(?:;|(?![0-9A-Fa-f]))|&commat;)"
# Anything GitHub could read as a user or team mention: ``@`` then a letter or
# digit, or ``&`` (a character reference may spell the name). Every such ``@``
# is neutralised, wherever it is, except inside an email address below.
_MENTION_RE = re.compile(rf"{_AT}(?=[A-Za-z0-9&])")
# An email address standing on its own. The boundaries matter: in
# ``a@b.co@alice`` GitHub links the address and reads ``@alice`` as a mention,
# so an address glued to another ``@`` (or ``#12@…``-style references) is no
# address here. GitHub also never mentions ``@b.co``: a name followed by
# ``.`` and a letter is not a mention, which backs this up.
_EMAIL_RE = re.compile(
    r"(?<![^\s(\[{<>\"',:])"
    r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]*[A-Za-z0-9])?"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
    r"(?![A-Za-z0-9_@&-])"
)
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_INLINE_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\n": "<br>",
    **{c: "\\" + c for c in "\\`*_[]|~$"},
}
_INLINE_RE = re.compile("|".join(re.escape(c) for c in _INLINE_ESCAPES))


# --- reading a body back ------------------------------------------------------

_FOOTER_RE = re.compile(r"\n*<sub>Submitted (?:by .+? )?via .+? · Feature Bridge</sub>\s*\Z")
_CONTEXT_RE = re.compile(r"\n*<details><summary>Context</summary>.*?</details>\s*\Z", re.DOTALL)


def issue_description(body: str) -> str:
    """The request's own text in an issue body: without the bridge's marker, footer,
    context table and placeholders (a body written on GitHub comes back as it is)."""
    text = _MARKER_RE.sub("", _clean(body)).rstrip()
    text = _FOOTER_RE.sub("", text)
    text = _CONTEXT_RE.sub("", text).rstrip()
    templates = _templates()
    text = text.removesuffix(templates["truncated"].template).rstrip()
    return "" if text == templates["empty_description"].template else text


def _clean(text: str) -> str:
    """Lone surrogates → U+FFFD (they cannot be sent as UTF-8), CR/CRLF → LF, no controls."""
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text)


def _strip_comments(text: str) -> str:
    # Removing a comment can join ``<!`` and ``-- …`` into a new one; rather than
    # repeat (quadratic on nested input) such a join is shown as plain text.
    return _COMMENT_RE.sub("", text).replace("<!--", "&lt;!--")


def _redact(text: str, email: str | None) -> str:
    email = (email or "").strip()
    if not email:
        return text
    return re.sub(
        re.escape(email), _templates()["email_redacted"].template, text, flags=re.IGNORECASE
    )


def neutralise_mentions(text: str) -> str:
    """Insert a zero-width space after every ``@`` GitHub could read as a mention."""
    emails = {m.start() + m.group().index("@") for m in _EMAIL_RE.finditer(text)}
    return _MENTION_RE.sub(
        lambda m: m.group() if m.start() in emails else m.group() + _ZWSP,
        text,
    )


# GitHub decodes character references before it looks for references, too.
_HASH = r"(?:\#|&\#0*35(?:;|(?![0-9]))|&\#[xX]0*23(?:;|(?![0-9A-Fa-f]))|&num;)"
_SLASH = r"(?:/|&\#0*47(?:;|(?![0-9]))|&\#[xX]0*2[fF](?:;|(?![0-9A-Fa-f]))|&sol;)"
# What could point at another issue or pull request: ``#12`` (``org/repo#12`` too),
# ``GH-12``, and a link's ``/issues/``, ``/pull/`` or ``/discussions/`` segment on
# any host. A zero-width space after each keeps the text readable and unlinked;
# in a link it leaves a path that names nothing.
_REFERENCE_RE = re.compile(
    rf"{_HASH}(?=[0-9]|&\#)|(?i:\bGH)-(?=[0-9])"
    rf"|(?i:{_SLASH}(?:issues|pulls?|discussions))(?={_SLASH})"
    # The bridge's own layout: its footer is <sub>, its context table <details>.
    r"|<(?=/?(?i:sub|details|summary)\b)"
)
# Every link at all, for text nobody vouches for (the model's words): ``scheme://``
# and ``www.``.
_LINK_RE = re.compile(r":(?=//)|(?i:\bwww)(?=\.)")


def neutralise(text: str, *, links: bool = True) -> str:
    """Untrusted text that notifies nobody and references nothing (SPEC §5).

    Mentions and cross-references get a zero-width space; with ``links=False``
    every link is broken the same way, not only links to issues.
    """
    text = _REFERENCE_RE.sub(lambda m: m.group() + _ZWSP, neutralise_mentions(text))
    return text if links else _LINK_RE.sub(lambda m: m.group() + _ZWSP, text)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _inline(text: str, email: str | None, *, limit: int, links: bool = True) -> str:
    """Untrusted text as inert inline Markdown (a table cell or the footer)."""
    text = _shorten(_redact(_clean(text).replace("\t", " "), email), limit)
    text = neutralise(text, links=links)
    return _INLINE_RE.sub(lambda m: _INLINE_ESCAPES[m.group()], text)


def inert_inline(text: str, *, limit: int) -> str:
    """Untrusted text (the model's words) as one inert line: no mentions, references or links."""
    return _inline(" ".join(_clean(text).split()), None, limit=limit, links=False)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- body parts ----------------------------------------------------------------


def _title(title: str, email: str | None) -> str:
    title = title.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    title = _INVISIBLE_RE.sub("", title)
    title = _redact(_TITLE_SPACE_RE.sub(" ", title).strip(), email)
    title = neutralise(_shorten(title, TITLE_LIMIT))
    return title or _templates()["untitled"].template


def _description(text: str, email: str | None) -> str:
    text = _strip_comments(_clean(text))
    # Leading spaces may be Markdown (an indented code block); blank lines are not.
    text = neutralise(_redact(text, email)).lstrip("\n").rstrip()
    return _close_open_fence(text)


def _close_open_fence(text: str) -> str:
    """Close a code fence left open, so it cannot swallow the table and footer."""
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE_RE.match(line)
        if match is None:
            continue
        run, rest = match.groups()
        if fence is None:
            # A backtick fence's info string cannot contain a backtick.
            if not (run[0] == "`" and "`" in rest):
                fence = run
        elif run[0] == fence[0] and len(run) >= len(fence) and not rest.strip():
            fence = None
    return text if fence is None else f"{text}\n{fence}"


def _extends_cluster(char: str) -> bool:
    """Characters that belong to the glyph before them (so a cut before them splits it)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _cut(text: str, units: int) -> str:
    """The longest clean prefix of ``text`` within ``units`` UTF-16 code units."""
    if units <= 0:
        return ""
    # Decoding with "ignore" drops half a surrogate pair rather than leaving it.
    end = len(text.encode("utf-16-le")[: 2 * units].decode("utf-16-le", "ignore"))
    while 0 < end < len(text) and (_extends_cluster(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    # Flags are pairs of regional indicators; an odd run ends in half a flag.
    start = end
    while start > 0 and _is_regional_indicator(text[start - 1]):
        start -= 1
    if (end - start) % 2 and end < len(text) and _is_regional_indicator(text[end]):
        end -= 1
    prefix = text[:end]
    # End between words when a break is close by.
    for separator in ("\n", " "):
        at = prefix.rfind(separator, max(0, end - 200))
        if at > 0:
            return prefix[:at]
    return prefix


def _fit(description: str, assemble: Callable[[str], str]) -> str:
    """The body, with the description truncated (and marked so) if it is over the limit."""
    body = assemble(description)
    if _utf16_len(body) <= BODY_LIMIT:
        return body
    note = _templates()["truncated"].template
    units = BODY_LIMIT - _utf16_len(assemble(note))
    while True:
        kept = _close_open_fence(_cut(description, units).rstrip())
        body = assemble(f"{kept}\n\n{note}" if kept else note)
        over = _utf16_len(body) - BODY_LIMIT
        if over <= 0:
            return body
        if units <= 0:
            raise ValueError("the issue body is over GitHub's limit even without a description")
        # A fence closer can cost more than the cut saved; shrink until it fits.
        units -= over


def _metadata_text(value: str | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _context(metadata: Mapping[str, str | int | float], email: str | None) -> str:
    if not metadata:
        return ""
    rows: list[str] = []
    size = 0
    items = list(metadata.items())
    for index, (key, value) in enumerate(items):
        row = _templates()["context_row"].substitute(
            key=_inline(str(key), email, limit=_MAX_CELL_LENGTH),
            value=_inline(_metadata_text(value), email, limit=_MAX_CELL_LENGTH),
        )
        if size + len(row) > _CONTEXT_BUDGET:
            rows.append(_templates()["context_omitted"].substitute(count=len(items) - index))
            break
        rows.append(row)
        size += len(row) + 1
    return _templates()["context"].substitute(rows="\n".join(rows))


def _footer(app_name: str, source: Source, name: str | None, email: str | None) -> str:
    app = _inline(_TITLE_SPACE_RE.sub(" ", app_name).strip(), email, limit=_MAX_NAME_LENGTH)
    channel = _templates()[f"channels.{source.value}"].substitute(app=app)
    name = _TITLE_SPACE_RE.sub(" ", name or "").strip()
    if not name:
        return _templates()["footer"].substitute(channel=channel)
    shown = _inline(name, email, limit=_MAX_NAME_LENGTH)
    return _templates()["footer_with_name"].substitute(name=shown, channel=channel)


def render_issue(
    *,
    app_id: str,
    app_name: str,
    labels: Sequence[str],
    source: Source,
    submission_id: str,
    content: SubmissionContent,
    show_submitter_name: bool = False,
) -> RenderedIssue:
    """Render one submission as the issue the bridge files (SPEC §5).

    The body is the description (mentions neutralised, HTML comments removed,
    truncated with a note if needed), a collapsed context table of the
    metadata, a footer naming the app and channel (and the submitter's name
    only with ``show_submitter_name``), then the marker, last and only once.
    The submitter's email is never included. Labels are the app's, de-duplicated.
    """
    email = content.email
    marker = submission_marker(app_id, submission_id)
    context = _context(content.metadata, email)
    footer = _footer(app_name, source, content.name if show_submitter_name else None, email)

    def assemble(description: str) -> str:
        return _templates()["body"].substitute(
            description=description, context=context, footer=footer, marker=marker
        )

    description = (
        _description(content.description, email) or _templates()["empty_description"].template
    )
    return RenderedIssue(
        title=_title(content.title, email),
        body=_fit(description, assemble),
        labels=tuple(dict.fromkeys(labels)),
        marker=marker,
    )
