"""Issue rendering: golden files for representative submissions, properties for the rest.

Regenerate the golden files after an intended change with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render.py`` and review the diff.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.domain import Source, SubmissionContent
from github_app.render import (
    BODY_LIMIT,
    TITLE_LIMIT,
    RenderedIssue,
    neutralise_mentions,
    parse_marker,
    render_issue,
    submission_marker,
)
from tests.golden_files import assert_golden

GOLDEN = Path(__file__).parent / "golden" / "render"
ZWSP = "\u200b"

# GitHub's mention patterns (html-pipeline's MentionFilter), in Python: a user
# mention is ``@name`` after a non-word character, not followed by ``/`` and
# not followed by ``.`` plus a word character; a team mention is ``@org/team``.
GITHUB_MENTION = re.compile(
    r"(?<![A-Za-z0-9_])@(?>[A-Za-z0-9][A-Za-z0-9-]*)(?!/)"
    r"(?=\.+[ \t\W]|\.+$|[^0-9A-Za-z_.]|$)",
    re.MULTILINE | re.ASCII,
)
GITHUB_TEAM_MENTION = re.compile(
    r"(?<![A-Za-z0-9_])@[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z][A-Za-z0-9_-]*", re.ASCII
)
# Stricter and independent of the rules above: an ``@`` that a letter or digit
# follows must be inside a word (an email address), never after punctuation.
LOOSE_AT = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]", re.ASCII)


def render(**overrides: Any) -> RenderedIssue:
    arguments: dict[str, Any] = {
        "app_id": "mobile",
        "app_name": "Acme Mobile",
        "labels": ("feature-request", "app:mobile"),
        "source": Source.WIDGET,
        "submission_id": "sub-0001",
        "content": SubmissionContent(title="Dark mode"),
    }
    arguments.update(overrides)
    return render_issue(**arguments)


def mentions(text: str) -> list[str]:
    """Every mention GitHub could find, also after it decodes character references."""
    found: list[str] = []
    for variant in (text, html.unescape(text)):
        found += GITHUB_MENTION.findall(variant) + GITHUB_TEAM_MENTION.findall(variant)
        found += LOOSE_AT.findall(variant)
    return found


# --- golden files --------------------------------------------------------------

_OVERLONG = (
    "Our exports are huge; here is a sample.\n\n```text\n"
    + "".join(
        f"row {i:05d}: id=item-{i:05d} name=Widget {i} size=large colour=blue\n"
        for i in range(1200)
    )
    + "```\n\nThe end of the description, which will not fit."
)

GOLDEN_CASES: dict[str, dict[str, Any]] = {
    "plain": {
        "labels": ("feature-request", "app:mobile", "feature-request"),
        "content": SubmissionContent(
            title="  Dark mode  ",
            description="It would be great to have a dark mode.\n\nMy eyes hurt at night.",
        ),
    },
    "mentions": {
        "source": Source.FORM,
        "content": SubmissionContent(
            title="Ping @alice about exports",
            description=(
                "cc @alice, @bob-smith and (@carol). Also @acme/design-team.\n"
                "Mail support@acme.example or <ops@acme.example>, not @support.\n"
                "Tricks: a@b.co@dave, &#64;erin, &#x40;frank, &commat;gina, @&#104;al, **@ivan**.\n"
                "Inline `@jane` and\n\n```\n@kim in a block\n```\n"
            ),
            metadata={"owner": "@lee", "team": "@acme/mobile"},
        ),
    },
    "html_comments": {
        "source": Source.API,
        "content": SubmissionContent(
            title="Comments <!-- hidden -->",
            description=(
                "Visible.<!-- hidden note -->\n"
                '<!-- featurebridge:{"app":"mobile","submission":"forged"} -->\n'
                'Joined: <!<!-- x -->-- featurebridge:{"app":"evil","submission":"x"} -->\n'
                "Empty <!--> and <!---> comments.\n"
                "Trailing <!-- never closed featurebridge:"
            ),
            metadata={"note": '<!-- featurebridge:{"app":"x","submission":"y"} -->'},
        ),
    },
    "metadata": {
        "source": Source.GOOGLE_FORMS,
        "content": SubmissionContent(
            title="Metadata table",
            description="See the context.",
            metadata={
                "app version": "4.2.0",
                "a|b": "c|d",
                "multi-line": "first\nsecond\r\nthird",
                "`code`": "<b>bold</b> & *stars* _under_ [link](x) ~strike~ $math$ \\",
                "build": 1234,
                "ratio": 0.25,
                "beta": True,
            },
        ),
    },
    "submitter_name_shown": {
        "show_submitter_name": True,
        "content": SubmissionContent(
            title="Offline mode",
            description="Reach me at Jane.Doe@example.com if needed.",
            metadata={"contact": "jane.doe@example.com"},
            email="jane.doe@example.com",
            name="Jane *Doe* @jd\n<script>",
        ),
    },
    "submitter_name_hidden": {
        "show_submitter_name": False,
        "content": SubmissionContent(
            title="Offline mode",
            description="Reach me at Jane.Doe@example.com if needed.",
            email="jane.doe@example.com",
            name="Jane Doe",
        ),
    },
    "overlong": {
        "content": SubmissionContent(title="Huge export", description=_OVERLONG),
    },
    "unicode": {
        "content": SubmissionContent(
            title="Émojis 🎉\tand\nnewlines \ud800",
            description=(
                "Family: 👩‍👩‍👧‍👦, flag: 🇳🇿, skin: 👍🏽, keycap: 1️⃣\n"
                "Accents: e\u0301 ñ, CJK: 暗いモード, RTL: الوضع الداكن\n"
                "Lone surrogate: \udc00 and a pair written apart: \ud83d\ude00"
            ),
            metadata={"locale": "日本語 🇯🇵"},
        ),
    },
    "cross_references": {
        "content": SubmissionContent(
            title="Like #12 and acme/web#7, GH-3",
            description=(
                "Same as #123, acme/web#45 and GH-6; also &#35;7, &#x23;8, &num;9 and #&#49;0.\n"
                "See https://github.com/acme/web/issues/11 and "
                "[this PR](https://github.com/acme/web/pull/12),\n"
                "<https://github.example.com/acme/web/discussions/13>, "
                '<a href="https://github.com/acme/web&#47;issues&#47;14">here</a>.\n'
                "Not references: issue#, C# 12, a heading:\n\n# 1. Intro\n"
                "and https://example.com/docs stays a link."
            ),
            metadata={"related": "#15", "link": "https://github.com/acme/web/pull/16"},
        ),
    },
    "footer_imitation": {
        "content": SubmissionContent(
            title="Looks official",
            description=(
                "Please prioritise.\n\n"
                "<details><summary>Context</summary>\n\n| Field | Value |\n| --- | --- |\n"
                "| plan | enterprise |\n\n</details>\n\n"
                "<sub>Submitted via the Acme Mobile API · Feature Bridge</sub>\n"
                "<SUB >Submitted by the CEO</SUB>"
            ),
        ),
    },
    "title_invisible": {
        "content": SubmissionContent(
            title="Dark\u200b mode \u202eedom krad\u202c\u2066 now\u2069\ufeff\u200d\u2060",
            description="The title hid characters.",
        ),
    },
    "empty_description": {
        "source": Source.GITHUB,
        "content": SubmissionContent(title="x" * 300, description=" \n\t\n "),
    },
}


def serialise(issue: RenderedIssue) -> str:
    title = json.dumps(issue.title, ensure_ascii=False)
    return f"title: {title}\nlabels: {json.dumps(list(issue.labels))}\n---\n{issue.body}\n"


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name: str) -> None:
    assert_golden(GOLDEN / f"{name}.md", serialise(render(**GOLDEN_CASES[name])))


def test_every_golden_file_has_a_case() -> None:
    assert {p.stem for p in GOLDEN.glob("*.md")} == set(GOLDEN_CASES)


# --- what the golden files show, stated directly ----------------------------------


def test_plain_issue_layout() -> None:
    issue = render(**GOLDEN_CASES["plain"])
    assert issue.title == "Dark mode"
    assert issue.labels == ("feature-request", "app:mobile")
    assert issue.body.startswith("It would be great to have a dark mode.\n\nMy eyes hurt")
    assert "<details>" not in issue.body  # no metadata, no table
    assert "Submitted via the Acme Mobile widget · Feature Bridge" in issue.body
    assert issue.body.endswith("\n\n" + issue.marker)


@pytest.mark.parametrize(
    ("source", "channel"),
    [
        (Source.WIDGET, "the Acme Mobile widget"),
        (Source.FORM, "the Acme Mobile feedback form"),
        (Source.GOOGLE_FORMS, "the Acme Mobile Google Form"),
        (Source.API, "the Acme Mobile API"),
        (Source.GITHUB, "GitHub"),
    ],
)
def test_footer_names_app_and_channel(source: Source, channel: str) -> None:
    assert f"Submitted via {channel} · Feature Bridge" in render(source=source).body


@pytest.mark.parametrize(
    "text",
    [
        "@alice",
        "hi @alice!",
        "(@alice)",
        "@alice.",
        "@alice...",
        "@alice.\nnext",
        "@acme/team",
        "x@alice",
        "_x_@alice",
        "a@b.co@alice",
        "#12@alice.com",
        "&#64;alice",
        "&#064;alice",
        "&#x40;alice",
        "&#X040;alice",
        "&#64alice",
        "&commat;alice",
        "@&#97;lice",
        "`@alice`",
        "@Alice-Smith",
        "@9lives",
    ],
)
def test_mentions_are_neutralised(text: str) -> None:
    out = neutralise_mentions(text)
    assert ZWSP in out
    assert out.replace(ZWSP, "") == text
    assert not mentions(out)


@pytest.mark.parametrize(
    "text",
    [
        "a@b.com",
        "mail first.last+tag@sub.example.co.uk now",
        "<ops@acme.example>",
        "(x@y.io)",
        "mailto:x@y.io",
        "email, a@b.com.",
        "@ alone",
        "@@",
        "@-x",
        "@\u200balice",
    ],
)
def test_emails_and_non_mentions_are_left_alone(text: str) -> None:
    assert neutralise_mentions(text) == text


def test_neutralising_is_idempotent() -> None:
    once = neutralise_mentions("@a @b/c &#64;d a@b.c@e")
    assert neutralise_mentions(once) == once


def test_mentions_neutralised_in_description_metadata_and_name() -> None:
    issue = render(
        show_submitter_name=True,
        content=SubmissionContent(
            title="t", description="@desc", metadata={"@key": "@value"}, name="@name"
        ),
    )
    for word in ("desc", "key", "value", "name"):
        assert f"@{ZWSP}{word}" in issue.body
    assert not mentions(issue.body)


def test_html_comments_removed_and_marker_cannot_be_forged() -> None:
    issue = render(**GOLDEN_CASES["html_comments"])
    assert issue.body.count("<!--") == 1
    # The real marker, plus the join and the metadata cell shown as inert text.
    assert issue.body.count("featurebridge:{") == 3
    assert "hidden note" not in issue.body
    assert "never closed" not in issue.body
    assert "&lt;!-- featurebridge" in issue.body  # the joined forgery is visible text
    assert parse_marker(issue.body) == ("mobile", "sub-0001")
    assert issue.body.endswith(issue.marker)


def test_metadata_table_escapes_cells() -> None:
    body = render(**GOLDEN_CASES["metadata"]).body
    assert "<details><summary>Context</summary>" in body
    assert "| a\\|b | c\\|d |" in body
    assert "| multi-line | first<br>second<br>third |" in body
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; \\*stars\\* \\_under\\_" in body
    assert "| \\`code\\` |" in body
    assert "| build | 1234 |" in body
    assert "| ratio | 0.25 |" in body
    assert "| beta | true |" in body


def test_oversized_metadata_is_cut_not_the_description() -> None:
    metadata = {f"k{i}": "<" * 5_000 for i in range(20)}
    issue = render(content=SubmissionContent(title="t", description="keep me", metadata=metadata))
    assert issue.body.startswith("keep me\n")
    assert "more omitted" in issue.body
    assert len(issue.body) < 30_000


def test_submitter_name_only_when_enabled_and_email_never() -> None:
    shown = render(**GOLDEN_CASES["submitter_name_shown"])
    hidden = render(**GOLDEN_CASES["submitter_name_hidden"])
    assert "Submitted by Jane \\*Doe\\* @\u200bjd &lt;script&gt; via the Acme Mobile widget" in (
        shown.body
    )
    assert "Jane Doe" not in hidden.body
    assert "Submitted via the Acme Mobile widget" in hidden.body
    for issue in (shown, hidden):
        assert "jane.doe@example.com" not in issue.body.lower()
        assert "Reach me at (email removed) if needed." in issue.body


def test_email_is_removed_from_the_title() -> None:
    issue = render(content=SubmissionContent(title="From A@B.io", email="a@b.io"))
    assert issue.title == "From (email removed)"


def test_title_is_trimmed_collapsed_and_capped() -> None:
    assert render(content=SubmissionContent(title=" a\n\n b\x00c\td ")).title == "a b c d"
    long = render(**GOLDEN_CASES["empty_description"]).title
    assert len(long) == TITLE_LIMIT
    assert long.endswith("…")
    assert render(content=SubmissionContent(title=" \n ")).title == "Untitled request"


def test_empty_description_gets_a_placeholder() -> None:
    body = render(**GOLDEN_CASES["empty_description"]).body
    assert body.startswith("_No description given._\n")


def test_unclosed_fence_is_closed_before_the_footer() -> None:
    body = render(content=SubmissionContent(title="t", description="```py\nprint(1)\n")).body
    assert body.startswith("```py\nprint(1)\n```\n\n")


def test_overlong_description_is_truncated_with_a_note() -> None:
    issue = render(**GOLDEN_CASES["overlong"])
    assert len(issue.body) <= BODY_LIMIT
    assert len(issue.body) > BODY_LIMIT - 300  # nearly all the room is used
    assert "… (truncated" in issue.body
    assert "will not fit" not in issue.body
    before_note = issue.body.split("\n\n_… (truncated")[0]
    assert before_note.endswith("\n```")  # the open fence was closed
    assert before_note.count("```") % 2 == 0
    assert issue.body.endswith(issue.marker)


@pytest.mark.parametrize("glyph", ["😀", "👩‍👩‍👧‍👦", "👍🏽", "e\u0301", "🇳🇿"])
def test_truncation_keeps_glyphs_whole(glyph: str) -> None:
    description = "x" + glyph * 70_000
    body = render(content=SubmissionContent(title="t", description=description)).body
    assert len(body.encode("utf-16-le")) // 2 <= BODY_LIMIT  # UTF-16 units, surrogates count 2
    kept = body.split("\n\n_… (truncated")[0]
    assert kept[1:] == glyph * ((len(kept) - 1) // len(glyph))


def test_body_never_contains_lone_surrogates() -> None:
    issue = render(**GOLDEN_CASES["unicode"])
    issue.body.encode("utf-8")
    issue.title.encode("utf-8")
    assert "\U0001f600" in issue.body  # a pair written apart is joined
    assert issue.title == "Émojis 🎉 and newlines \ufffd"


# --- markers -------------------------------------------------------------------


def test_submission_marker_format() -> None:
    assert (
        submission_marker("mobile", "01J9Z")
        == '<!-- featurebridge:{"app":"mobile","submission":"01J9Z"} -->'
    )


def test_submission_marker_cannot_close_its_comment() -> None:
    marker = submission_marker("mobile", "a-->b<!--&")
    assert marker.count("-->") == 1
    assert marker.count("<!--") == 1
    assert parse_marker(f"x {marker} y") == ("mobile", "a-->b<!--&")


@pytest.mark.parametrize(("app", "submission"), [("", "s"), ("a", ""), ("a", "s" * 201)])
def test_submission_marker_rejects_bad_ids(app: str, submission: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        submission_marker(app, submission)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<!-- featurebridge:{"app":"a","submission":"s"} -->', ("a", "s")),
        ('text\n<!--featurebridge:{"app":"a","submission":"s"}-->\nmore', ("a", "s")),
        ('<!--  featurebridge: {"submission":"s","app":"a","x":1}\n-->', ("a", "s")),
        (
            '<!-- featurebridge:{"app":"a","submission":"s"} --><!-- featurebridge:'
            '{"app":"b","submission":"t"} -->',
            ("a", "s"),
        ),
        (
            '<!-- featurebridge:{broken --> <!-- featurebridge:{"app":"b","submission":"t"} -->',
            ("b", "t"),
        ),
        (
            '<!-- featurebridge:{"kind":"tally"} --> <!-- featurebridge:'
            '{"app":"b","submission":"t"} -->',
            ("b", "t"),
        ),
        ("", None),
        (None, None),
        ("no marker here", None),
        ('featurebridge:{"app":"a","submission":"s"}', None),
        ('<!-- featurebridge:{"app":"a","submission":"s"}', None),
        ('<!-- featurebridge:{"app":"a"} -->', None),
        ('<!-- featurebridge:{"app":"a","submission":7} -->', None),
        ('<!-- featurebridge:{"app":"","submission":"s"} -->', None),
        ('<!-- featurebridge:["a","s"] -->', None),
        ('<!-- otherbot:{"app":"a","submission":"s"} -->', None),
    ],
)
def test_parse_marker(body: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_marker(body) == expected


# --- properties ------------------------------------------------------------------

_TOKENS = [
    "@",
    "@alice",
    "@acme/team",
    "a@b.com",
    "x@y",
    "&#64;",
    "&#x40;",
    "&commat;",
    "&",
    "<!--",
    "<!<!-- -->--",
    "-->",
    "--!>",
    "<!-",
    "--",
    "<",
    ">",
    "!",
    "featurebridge:",
    '{"app":"evil","submission":"x"}',
    "```",
    "~~~",
    "\n",
    " ",
    "|",
    "`",
    "#12",
    "_",
    "*",
    "\u200d",
    "👩‍💻",
    "😀",
    "\U0001f3fd",
    "e\u0301",
    "é",
    "\ud83d",
    "\r\n",
    "\x00",
    ".",
]
_fragment = st.one_of(
    st.sampled_from(_TOKENS),
    st.text(st.characters(exclude_categories=()), max_size=8),
    st.from_regex(r"[a-z]{1,6}", fullmatch=True),
)
_short = st.lists(_fragment, max_size=40).map("".join)
_long = st.tuples(_short.filter(bool), st.integers(55_000, 100_000)).map(
    lambda pair: (pair[0] * (pair[1] // len(pair[0]) + 1))[: pair[1]]
)
_emails = st.emails()


@st.composite
def submissions(draw: st.DrawFn) -> dict[str, Any]:
    email = draw(st.none() | _emails)
    description = draw(st.one_of(_short, _long))
    if email and draw(st.booleans()):
        # The submitter typing their own address, in any case, anywhere.
        at = draw(st.integers(0, len(description)))
        description = (
            description[:at] + draw(st.sampled_from([email, email.upper()])) + (description[at:])
        )
    value = st.one_of(_short, st.integers(), st.floats(), st.booleans())
    if email:
        value = value | st.just(email)
    return {
        "app_id": draw(st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True)),
        "app_name": draw(_short),
        "labels": draw(st.lists(st.sampled_from(["a", "b", "app:x", "A"]), max_size=6)),
        "source": draw(st.sampled_from(list(Source))),
        "submission_id": draw(st.uuids().map(str) | st.from_regex(r"[\w-]{1,64}", fullmatch=True)),
        "show_submitter_name": draw(st.booleans()),
        "content": SubmissionContent(
            title=draw(_short | st.just(email or "")),
            description=description,
            metadata=draw(st.dictionaries(_short, value, max_size=25)),
            email=email,
            name=draw(st.none() | _short | st.just(email or "")),
        ),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions())
def test_rendered_issue_properties(arguments: dict[str, Any]) -> None:
    issue = render_issue(**arguments)
    body = issue.body

    assert len(body.encode("utf-16-le")) // 2 <= BODY_LIMIT
    assert len(body) <= BODY_LIMIT
    body.encode("utf-8")  # no lone surrogates

    assert issue.marker == submission_marker(arguments["app_id"], arguments["submission_id"])
    assert body.endswith(issue.marker)
    assert body.count("<!--") == 1
    assert parse_marker(body) == (arguments["app_id"], arguments["submission_id"])

    assert mentions(body) == []

    email = arguments["content"].email
    if email:
        assert email.lower() not in body.lower()
        assert email.lower() not in issue.title.lower()

    assert 1 <= len(issue.title) <= TITLE_LIMIT
    assert issue.title == issue.title.strip()
    assert not re.search(r"[\x00-\x1f\x7f]", issue.title)

    labels = list(arguments["labels"])
    assert list(issue.labels) == sorted(set(labels), key=labels.index)


@settings(max_examples=300, deadline=None)
@given(_short)
def test_neutralise_only_adds_zero_width_spaces(text: str) -> None:
    out = neutralise_mentions(text)
    assert out.replace(ZWSP, "") == text.replace(ZWSP, "")
    assert not mentions(out)
    assert neutralise_mentions(out) == out


# --- cross-references, imitation, invisible characters ---------------------------

# What GitHub reads as a reference to another issue or pull request: ``#N`` after a
# non-word character (``org/repo#N`` included), ``GH-N``, and an issues, pull or
# discussions link on any host.
GITHUB_REFERENCE = re.compile(
    r"(?<![A-Za-z0-9_&])#[0-9]+\b|\bGH-[0-9]+\b"
    r"|/[\w.-]+/[\w.-]+/(?:issues|pulls?|discussions)/[0-9]+",
    re.IGNORECASE,
)


def references(text: str) -> list[str]:
    """Every reference GitHub could find, also after it decodes character references."""
    return [
        ref for variant in (text, html.unescape(text)) for ref in GITHUB_REFERENCE.findall(variant)
    ]


def test_cross_references_reference_nothing() -> None:
    case = GOLDEN_CASES["cross_references"]["content"]
    assert references(case.description + case.title + str(case.metadata))  # the detector works
    issue = render(**GOLDEN_CASES["cross_references"])
    assert references(issue.body) == []
    assert references(issue.title) == []
    assert "https://example.com/docs" in issue.body  # other links stay links


@given(st.text(alphabet="#GH-/issuepl0123 &;x3a", max_size=60))
def test_no_text_renders_a_reference(text: str) -> None:
    issue = render(
        content=SubmissionContent(title=text or "t", description=text, metadata={"k": text})
    )
    assert references(issue.body) == []
    assert references(issue.title) == []


def test_description_cannot_imitate_the_footer_or_context_table() -> None:
    issue = render(**GOLDEN_CASES["footer_imitation"])
    assert issue.body.count("<sub>") == 1
    assert issue.body.lower().count("<details>") == 0
    assert issue.body.rstrip().endswith(issue.marker)


def test_bidi_and_zero_width_characters_leave_titles() -> None:
    title = render(**GOLDEN_CASES["title_invisible"]).title
    assert title == "Dark mode edom krad now"


def test_issue_description_is_the_submission_text_without_the_bridges_parts() -> None:
    from bridge.domain import Source, SubmissionContent
    from github_app.render import issue_description, render_issue

    content = SubmissionContent(
        title="Dark mode", description="At night\n\nplease", metadata={"v": "1"}, name="Ada"
    )
    rendered = render_issue(
        app_id="mobile",
        app_name="Acme",
        labels=["fr"],
        source=Source.WIDGET,
        submission_id="s1",
        content=content,
        show_submitter_name=True,
    )
    assert issue_description(rendered.body) == "At night\n\nplease"
    empty = render_issue(
        app_id="mobile",
        app_name="Acme",
        labels=["fr"],
        source=Source.API,
        submission_id="s2",
        content=SubmissionContent(title="x", description=""),
    )
    assert issue_description(empty.body) == ""
    assert issue_description("Written on GitHub\r\n\n<sub>not ours</sub>") == (
        "Written on GitHub\n\n<sub>not ours</sub>"
    )
