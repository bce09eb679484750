"""Export of aggregated vote data: rows, CSV escaping, the three formats, the API and the CLI."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace
from openapi_spec_validator import validate

from bridge.api import export as export_api
from bridge.cli import main
from bridge.commands import write_atomically
from bridge.domain import Request, Source, Status
from bridge.export import (
    COLUMNS,
    FORMULA_PREFIXES,
    STREAM_PAGE_SIZE,
    ExportFormat,
    Row,
    csv_cells,
    csv_chunks,
    escape_cell,
    export_row,
    json_chunks,
    json_object,
    parse_since,
    walk_pages,
)
from bridge.ports import ExportPage, StoreError
from bridge.runtime import Runtime
from bridge.stores.sqlite import SQLiteStore
from bridge.timeutil import to_iso
from tests.conftest import error_code
from tests.processes import FEATUREBRIDGE, clean_env, free_port, start_serve

ROOT = Path(__file__).parent.parent
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OPERATOR = {"Authorization": "Bearer operator-secret"}
URL = "/v1/export"

# Titles a spreadsheet or a naive parser would trip on.
AWKWARD = (
    "Comma, separated",
    'Say "hello" twice ""',
    "Line\nbreak",
    "CRLF\r\ninside",
    "Unicode ✓ café 日本語 🚀",
    "=1+2",
    '=HYPERLINK("http://evil.example","click")',
    "-2+3",
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\tTab first",
    "\rCR first",
    "'quote first",
    "semi; colons; here",
    "Plain title",
)
PRIVATE_NAME = "Zebulon Privatename"
PRIVATE_EMAIL = "zebulon.private@example.com"


def awkward_request(i: int) -> Request:
    app = "internal" if i % 3 == 0 else "mobile"
    status = list(Status)[i % len(Status)]
    labels = ("feature-request", f"app:{app}")
    if i % 5 == 0:
        labels += ("=evil", "ünï,cödé")
    bridge = i % 4
    return Request(
        app=app,
        number=i + 1,
        title=f"{AWKWARD[i % len(AWKWARD)]} #{i}",
        status=status,
        url=f"https://github.com/acme/{app}/issues/{i + 1}",
        labels=labels,
        source=Source.WIDGET,
        created_at=T0 - timedelta(days=60 - i),
        updated_at=T0 + timedelta(minutes=i),
        closed_at=T0 + timedelta(minutes=i) if status.is_closed else None,
        github_thumbs_up=i * 7 % 13,
        bridge_votes=bridge,
        weighted_votes=bridge * 3,
    )


@pytest.fixture
def seeded(runtime: Runtime) -> list[Request]:
    requests = [awkward_request(i) for i in range(50)]
    for item in requests:
        runtime.store.upsert_request(item)
    return sorted(requests, key=lambda r: (r.app, r.number))


def get(client: FlaskClient, query: str = "", **kwargs: Any) -> Any:
    return client.get(f"{URL}?{query}", headers=OPERATOR, **kwargs)


def unescape(cell: str) -> str:
    """The inverse of the formula escaping, for titles that do not start with ``'=`` etc."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_PREFIXES and cell[1:2] else cell


def csv_objects(text: str) -> list[dict[str, Any]]:
    """CSV rows as the JSON objects they stand for."""
    reader = csv.reader(io.StringIO(text, newline=""))
    assert next(reader) == list(COLUMNS)
    numbers = {c for c in COLUMNS if c.endswith(("_votes", "_up", "_voters")) or c == "number"}
    objects = []
    for cells in reader:
        row: dict[str, Any] = {}
        for name, cell in zip(COLUMNS, cells, strict=True):
            if name in numbers:
                row[name] = int(cell)
            elif name == "labels":
                row[name] = [unescape(label) for label in cell.split(";")] if cell else []
            elif cell == "" and name in {"closed_at", "category", "priority"}:
                row[name] = None
            else:
                row[name] = unescape(cell)
        objects.append(row)
    return objects


def jsonl_objects(text: str) -> list[dict[str, Any]]:
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def next_link(response: Any) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


# ------------------------------------------------------------------ pure rules


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_text_starting_like_a_formula_gets_a_quote(prefix: str) -> None:
    assert escape_cell(f"{prefix}1+1") == f"'{prefix}1+1"


@pytest.mark.parametrize(
    "text",
    ["Plain title", "", " =leading space", "'quote first", "1-2", "a=b", "日本語", "#hash", "%"],
)
def test_other_text_is_left_alone(text: str) -> None:
    assert escape_cell(text) == text


def test_numbers_are_not_text_cells_so_negatives_stay_numbers() -> None:
    item = replace(awkward_request(1), github_thumbs_up=-3, bridge_votes=-1, weighted_votes=-7)
    cells = csv_cells(export_row(item))
    assert cells[COLUMNS.index("github_thumbs_up")] == -3
    assert cells[COLUMNS.index("total_votes")] == -4
    assert cells[COLUMNS.index("weighted_votes")] == -7
    line = next(csv_chunks([[export_row(item)]])).splitlines()[1]
    assert ",-3,-1,-4,-7," in line


def test_every_text_cell_from_outside_is_escaped_including_labels_url_and_analysis() -> None:
    item = replace(
        awkward_request(1), title="-title", labels=("@a", "b"), url="=HYPERLINK()", app="+x"
    )
    row = export_row(item)._replace(category="=cmd|' /C calc'!A0", priority="-1")
    cells = csv_cells(row)
    assert cells[COLUMNS.index("title")] == "'-title"
    assert cells[COLUMNS.index("labels")] == "'@a;b"
    assert cells[COLUMNS.index("url")] == "'=HYPERLINK()"
    assert cells[COLUMNS.index("app")] == "'+x"
    assert cells[COLUMNS.index("category")] == "'=cmd|' /C calc'!A0"
    assert cells[COLUMNS.index("priority")] == "'-1"


def test_the_cells_left_unchecked_are_the_bridges_own_text() -> None:
    # csv_cells skips the status and the timestamps: none can start like a formula.
    assert not [status for status in Status if status.value[:1] in FORMULA_PREFIXES]
    row = export_row(replace(awkward_request(2), closed_at=T0))
    for column in ("created_at", "updated_at", "closed_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[COLUMNS.index(column)])


def test_row_has_the_spec_columns_in_order() -> None:
    item = replace(awkward_request(5), closed_at=None)
    row = dict(zip(COLUMNS, export_row(item), strict=True))
    assert list(row) == [
        "app",
        "number",
        "title",
        "status",
        "labels",
        "github_thumbs_up",
        "bridge_votes",
        "total_votes",
        "weighted_votes",
        "unique_voters",
        "created_at",
        "updated_at",
        "closed_at",
        "url",
        "category",
        "priority",
    ]
    assert row["total_votes"] == item.github_thumbs_up + item.bridge_votes
    assert row["unique_voters"] == item.bridge_votes
    assert row["category"] is None
    assert row["priority"] is None
    assert row["closed_at"] is None
    assert row["created_at"] == to_iso(item.created_at)


@given(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7))])))
def test_fast_timestamps_match_to_iso(moment: datetime) -> None:
    [row] = [export_row(replace(awkward_request(1), created_at=moment))]
    if moment.astimezone(UTC).year >= 1000:  # to_iso's strftime does not pad earlier years
        assert row[COLUMNS.index("created_at")] == to_iso(moment)


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
ROWS = st.builds(
    Row,
    app=TEXT,
    number=st.integers(min_value=0, max_value=2**40),
    title=TEXT,
    status=st.sampled_from(list(Status)).map(str),
    labels=st.lists(TEXT, max_size=4).map(tuple),
    github_thumbs_up=st.integers(min_value=-5, max_value=10**6),
    bridge_votes=st.integers(min_value=0, max_value=10**6),
    total_votes=st.integers(min_value=0, max_value=10**6),
    weighted_votes=st.integers(min_value=0, max_value=10**8),
    unique_voters=st.integers(min_value=0, max_value=10**6),
    created_at=TEXT,
    updated_at=TEXT,
    closed_at=st.none() | TEXT,
    url=TEXT,
    category=st.none() | TEXT,
    priority=st.none() | TEXT,
)


@given(ROWS)
def test_json_objects_are_what_json_dumps_writes(row: Row) -> None:
    expected = json.dumps(row._asdict(), ensure_ascii=False, separators=(",", ":"))
    assert json_object(row) == expected
    assert json.loads(json_object(row)) == {**row._asdict(), "labels": list(row.labels)}


def test_json_objects_of_awkward_requests() -> None:
    for i in range(len(AWKWARD) * 2):
        row = export_row(awkward_request(i))
        assert json_object(row) == json.dumps(
            row._asdict(), ensure_ascii=False, separators=(",", ":")
        )


def test_the_sqlite_export_rows_are_export_row_of_get_request(
    runtime: Runtime, seeded: list[Request]
) -> None:
    page = runtime.store.export_rows(
        apps=["internal", "mobile"], status=None, updated_since=None, limit=100, cursor=None
    )
    assert len(page.rows) == 50
    for row in page.rows:
        stored = runtime.store.get_request(row.app, row.number)
        assert stored is not None
        assert row == export_row(stored)


def test_empty_export_still_has_its_header_and_document() -> None:
    assert list(csv_chunks([])) == [",".join(COLUMNS) + "\r\n"]
    assert list(csv_chunks([[], []])) == [",".join(COLUMNS) + "\r\n"]
    document = json.loads("".join(json_chunks([[]], exported_at=T0, apps=[], next_cursor=None)))
    assert document == {
        "exported_at": "2026-11-25T12:00:00Z",
        "apps": [],
        "requests": [],
        "totals": {"requests": 0, "github_thumbs_up": 0, "bridge_votes": 0, "total_votes": 0},
        "next_cursor": None,
    }


def test_walk_pages_follows_cursors_through_short_pages() -> None:
    first = ExportPage([export_row(awkward_request(1))], "a")
    pages = {None: first, "a": ExportPage([], "b"), "b": ExportPage([], None)}
    assert [len(p) for p in walk_pages(lambda cursor: pages[cursor])] == [1, 0, 0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25", T0.replace(hour=0)),
        ("2026-11-25T12:00:00Z", T0),
        ("2026-11-25T14:00:00+02:00", T0),
        ("2026-11-25T12:00:00", T0),
    ],
)
def test_since_accepts_iso_8601(text: str, expected: datetime) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2026-13-01", "1700000000", "0001-01-01T00:00+01:00"]
)
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_since(text)


# ------------------------------------------------------------------ the endpoint


def test_export_needs_the_operator_token(client: FlaskClient, seeded: list[Request]) -> None:
    assert client.get(URL).status_code == 401
    assert error_code(client.get(URL)) == "unauthorized"
    wrong = client.get(URL, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get(f"{URL}?format=csv").status_code == 401
    assert get(client).status_code == 200


def test_three_formats_agree_row_for_row(client: FlaskClient, seeded: list[Request]) -> None:
    document = get(client, "limit=10000").get_json()
    from_jsonl = jsonl_objects(get(client, "format=jsonl&limit=10000").get_data(as_text=True))
    csv_response = get(client, "format=csv&limit=10000")
    assert csv_response.content_type == "text/csv; charset=utf-8"
    from_csv = csv_objects(csv_response.get_data(as_text=True))
    assert document["requests"] == from_jsonl == from_csv
    assert [(r["app"], r["number"]) for r in from_csv] == [(r.app, r.number) for r in seeded]
    assert [r["title"] for r in from_csv] == [r.title for r in seeded]
    assert all(list(row) == list(COLUMNS) for row in document["requests"])
    assert document["apps"] == [
        {"id": "internal", "name": "Acme Internal", "repo": "acme/internal"},
        {"id": "mobile", "name": "Acme Mobile", "repo": "acme/mobile"},
    ]
    assert document["totals"] == {
        "requests": 50,
        "github_thumbs_up": sum(r.github_thumbs_up for r in seeded),
        "bridge_votes": sum(r.bridge_votes for r in seeded),
        "total_votes": sum(r.total_votes for r in seeded),
    }
    assert document["next_cursor"] is None
    assert document["exported_at"] == "2026-11-25T12:00:00Z"


def test_csv_escapes_dangerous_titles_only(client: FlaskClient, seeded: list[Request]) -> None:
    rows = list(
        csv.reader(io.StringIO(get(client, "format=csv").get_data(as_text=True), newline=""))
    )
    titles = {row[COLUMNS.index("number")]: row[COLUMNS.index("title")] for row in rows[1:]}
    for item in seeded:
        cell = titles[str(item.number)]
        if item.title.startswith(FORMULA_PREFIXES):
            assert cell == "'" + item.title
        else:
            assert cell == item.title


def test_no_names_or_emails_in_any_output(
    client: FlaskClient, runtime: Runtime, seeded: list[Request]
) -> None:
    submitted = client.post(
        "/v1/apps/mobile/requests",
        json={"title": "Private person's idea", "email": PRIVATE_EMAIL, "name": PRIVATE_NAME},
    )
    assert submitted.status_code == 201
    stored = runtime.store.get_submission(submitted.get_json()["id"])
    assert stored is not None
    assert (stored.content.email, stored.content.name) == (PRIVATE_EMAIL, PRIVATE_NAME)
    for query in ["", "format=jsonl", "format=csv", "stream=true", "format=csv&stream=true"]:
        text = get(client, query).get_data(as_text=True)
        assert "Private person's idea" in text
        assert "zebulon" not in text.lower()
        assert "privatename" not in text.lower()
        assert "@example.com" not in text


def test_filters_by_app_status_and_since(client: FlaskClient, seeded: list[Request]) -> None:
    def numbers(query: str) -> list[tuple[str, int]]:
        return [(r["app"], r["number"]) for r in get(client, query).get_json()["requests"]]

    assert numbers("app=internal") == [(r.app, r.number) for r in seeded if r.app == "internal"]
    assert numbers("app=mobile&app=internal&app=mobile") == numbers("")
    assert numbers("status=planned") == [
        (r.app, r.number) for r in seeded if r.status is Status.PLANNED
    ]
    since = T0 + timedelta(minutes=40)
    assert numbers("since=2026-11-25T12:40:00Z") == [
        (r.app, r.number) for r in seeded if r.updated_at >= since
    ]
    assert numbers("since=2026-11-25T13:40:00%2B01:00") == numbers("since=2026-11-25T12:40:00Z")
    assert numbers("since=2026-11-25T12:40:00Z&status=completed&app=mobile") == [
        (r.app, r.number)
        for r in seeded
        if r.updated_at >= since and r.status is Status.COMPLETED and r.app == "mobile"
    ]
    document = get(client, "app=internal").get_json()
    assert [app["id"] for app in document["apps"]] == ["internal"]


def test_unknown_app_is_404(client: FlaskClient, seeded: list[Request]) -> None:
    response = get(client, "app=mobile&app=nope")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_link_headers_page_through_everything(
    client: FlaskClient, seeded: list[Request], fmt: str
) -> None:
    query = f"format={fmt}&limit=7&app=internal&app=mobile&since=2026-11-25T12:05:00Z"
    parse = jsonl_objects if fmt == "jsonl" else csv_objects
    whole = parse(get(client, query.replace("limit=7", "limit=10000")).get_data(as_text=True))
    assert len(whole) == 45
    collected: list[dict[str, Any]] = []
    url: str | None = f"http://localhost{URL}?{query}"
    pages = 0
    while url is not None:
        response = client.get(url, headers=OPERATOR)
        assert response.status_code == 200
        rows = parse(response.get_data(as_text=True))
        assert len(rows) <= 7
        collected.extend(rows)
        pages += 1
        url = next_link(response)
        if url is not None:
            parts = urlsplit(url)
            assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost", URL)
            kept = [(k, v) for k, v in parse_qsl(parts.query) if k != "cursor"]
            assert kept == parse_qsl(query)
    assert pages == 7
    assert collected == whole


def test_json_pages_through_next_cursor(client: FlaskClient, seeded: list[Request]) -> None:
    collected: list[dict[str, Any]] = []
    cursor = None
    totals = 0
    while True:
        document = get(client, "status=open&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        body = document.get_json()
        collected.extend(body["requests"])
        assert body["totals"]["requests"] == len(body["requests"])  # the page's rows only
        totals += body["totals"]["total_votes"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert next_link(document) is not None
    expected = [r for r in seeded if r.status is Status.OPEN]
    assert [r["number"] for r in collected] == [r.number for r in expected]
    assert totals == sum(r.total_votes for r in expected)


def test_cursor_is_bound_to_its_filters(client: FlaskClient, seeded: list[Request]) -> None:
    cursor = get(client, "limit=2&status=open").get_json()["next_cursor"]
    assert get(client, f"limit=2&status=open&cursor={cursor}").status_code == 200
    for query in [f"status=planned&cursor={cursor}", f"app=mobile&status=open&cursor={cursor}"]:
        response = get(client, query)
        assert response.status_code == 400
        assert "cursor" in response.get_json()["error"]["fields"]


def test_big_pages_are_cut_short_under_the_byte_cap(
    client: FlaskClient, seeded: list[Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_api, "PAGE_BODY_BYTES", 3000)
    collected: list[dict[str, Any]] = []
    url: str | None = f"{URL}?format=jsonl&limit=50"
    while url is not None:
        response = client.get(url, headers=OPERATOR)
        assert len(response.get_data()) <= 3000
        collected.extend(jsonl_objects(response.get_data(as_text=True)))
        url = next_link(response)
    assert [(r["app"], r["number"]) for r in collected] == [(r.app, r.number) for r in seeded]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xml", "format"),
        ("format=", "format"),
        ("since=yesterday", "since"),
        ("since=", "since"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("limit=many", "limit"),
        ("status=bogus", "status"),
        ("stream=maybe", "stream"),
        ("cursor=%21%21", "cursor"),
        ("stream=true&cursor=eyJwIjoiabc", "stream"),
    ],
)
def test_bad_query_parameters_are_400_naming_them(
    client: FlaskClient, query: str, field: str
) -> None:
    response = get(client, query)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert field in response.get_json()["error"]["fields"]


PARAMS = st.dictionaries(
    st.sampled_from(["app", "format", "status", "since", "limit", "cursor", "stream", "other"]),
    st.sampled_from(["json", "jsonl", "csv", "mobile", "open", "true", "1", "0", "2026-11-25"])
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    max_size=6,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=PARAMS, repeated_app=st.booleans())
def test_random_query_parameters_never_produce_a_500(
    client: FlaskClient, seeded: list[Request], params: dict[str, str], repeated_app: bool
) -> None:
    query = list(params.items()) + ([("app", "internal")] if repeated_app else [])
    response = client.get(URL, query_string=query, headers=OPERATOR)
    assert response.status_code in {200, 400, 404}, response.get_data(as_text=True)
    if response.status_code == 400:
        fields = response.get_json()["error"]["fields"]
        assert {name.split(".")[0] for name in fields} <= set(params) | {"app"}
    elif response.status_code == 200:
        response.get_data()


# ------------------------------------------------------------------ streaming


@pytest.fixture
def page_limits(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ``limit`` of every page the export asks the store for, in order."""
    calls: list[int] = []
    scan = runtime.store.export_rows

    def counted(**kwargs: Any) -> ExportPage:
        calls.append(kwargs["limit"])
        return scan(**kwargs)

    monkeypatch.setattr(runtime.store, "export_rows", counted)
    return calls


def test_stream_sends_every_page_in_one_response(
    client: FlaskClient, seeded: list[Request], page_limits: list[int]
) -> None:
    calls = page_limits
    response = get(client, "format=csv&stream=true&limit=7", buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers.get("Link") is None
    assert len(calls) == 1  # only the first page before the answer starts
    rows = csv_objects(response.get_data(as_text=True))
    assert len(calls) == 8
    assert set(calls) == {7}
    assert [(r["app"], r["number"]) for r in rows] == [(r.app, r.number) for r in seeded]


@pytest.mark.parametrize("query", ["", "&limit=10000"])
def test_stream_reads_the_store_in_pages_of_at_most_the_stream_size(
    client: FlaskClient, seeded: list[Request], page_limits: list[int], query: str
) -> None:
    response = get(client, f"format=jsonl&stream=true{query}")
    assert len(response.get_data(as_text=True).splitlines()) == len(seeded)
    assert set(page_limits) == {STREAM_PAGE_SIZE}


def test_streamed_json_is_the_whole_document(client: FlaskClient, seeded: list[Request]) -> None:
    document = json.loads(get(client, "stream=true&limit=4").get_data(as_text=True))
    assert len(document["requests"]) == 50
    assert document["next_cursor"] is None
    assert document["totals"]["requests"] == 50
    assert document["totals"]["total_votes"] == sum(r.total_votes for r in seeded)
    assert document["requests"] == get(client, "limit=10000").get_json()["requests"]


def test_index_down_before_streaming_is_503(
    client: FlaskClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> ExportPage:
        raise StoreError("database is locked")

    monkeypatch.setattr(runtime.store, "export_rows", broken)
    for query in ["stream=true", "format=csv"]:
        response = get(client, query)
        assert response.status_code == 503
        assert error_code(response) == "unavailable"


# ------------------------------------------------------------------ OpenAPI


def test_openapi_documents_the_export(client: FlaskClient, seeded: list[Request]) -> None:
    document = client.get("/openapi.json").get_json()
    validate(document)
    operation = document["paths"]["/v1/export"]["get"]
    assert operation["security"] == [{"operator": []}]
    assert "totals" in operation["description"]
    assert "this response" in operation["description"]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"app", "format", "status", "since", "limit", "cursor", "stream"}
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/json", "application/jsonl", "text/csv"}
    assert "Link" in operation["responses"]["200"]["headers"]
    schemas = document["components"]["schemas"]
    assert list(schemas["ExportRow"]["properties"]) == list(COLUMNS)
    # A real export validates against the documented schema.
    schema = {**content["application/json"]["schema"], "components": {"schemas": schemas}}
    jsonschema.validate(get(client, "limit=5").get_json(), schema)
    # JSON Lines is documented as the array of its lines' rows.
    rows_schema = {**content["application/jsonl"]["schema"], "components": {"schemas": schemas}}
    rows = jsonl_objects(get(client, "format=jsonl").get_data(as_text=True))
    assert rows
    jsonschema.validate(rows, rows_schema)


# ------------------------------------------------------------------ command line


@pytest.fixture
def cli_env(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "FEATUREBRIDGE_CONFIG": str(tmp_path / "featurebridge.toml"),
        "FEATUREBRIDGE_STORE": f"sqlite:///{tmp_path / 'index.db'}",
        "FEATUREBRIDGE_ENV_FILE": str(tmp_path / "absent.env"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_cli_exports_to_a_file_atomically(
    client: FlaskClient,
    seeded: list[Request],
    cli_env: dict[str, str],
    tmp_path: Path,
    fmt: ExportFormat,
) -> None:
    target = tmp_path / "out" / f"export.{fmt}"
    target.parent.mkdir()
    target.write_text("old export")
    assert main(["export", "--format", fmt, "--output", str(target)]) == 0
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind
    text = target.read_bytes().decode("utf-8")
    streamed = get(client, f"format={fmt}&stream=true").get_data(as_text=True)
    if fmt is ExportFormat.JSON:
        written, served = json.loads(text), json.loads(streamed)
        written.pop("exported_at"), served.pop("exported_at")
        assert written == served
    else:
        assert text == streamed


def test_cli_filters_and_reports_usage_errors(
    seeded: list[Request], cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "planned.jsonl"
    args = ["export", "--format", "jsonl", "--app", "mobile", "--status", "planned"]
    assert main([*args, "--since", "2026-11-25T12:10:00Z", "--output", str(target)]) == 0
    rows = jsonl_objects(target.read_bytes().decode("utf-8"))
    assert [r["number"] for r in rows] == [
        r.number
        for r in seeded
        if r.app == "mobile"
        and r.status is Status.PLANNED
        and r.updated_at >= T0 + timedelta(minutes=10)
    ]
    for bad in (["--format", "xml"], ["--status", "bogus"], ["--since", "soon"], ["--app", "nope"]):
        assert main(["export", *bad, "--output", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


def test_atomic_write_keeps_the_old_file_when_the_export_fails(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_text("previous, complete export\n")

    def chunks() -> Iterator[str]:
        yield "app,number\n"
        raise StoreError("index went away")

    with pytest.raises(StoreError):
        write_atomically(target, chunks())
    assert target.read_text() == "previous, complete export\n"
    assert list(tmp_path.iterdir()) == [target]


def test_cli_writes_to_stdout_as_a_real_process(
    seeded: list[Request], cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [str(FEATUREBRIDGE), "export", "--format", "csv", "--app", "internal"],
        cwd=tmp_path,
        env=clean_env(tmp_path, **cli_env),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = csv_objects(result.stdout.decode("utf-8"))
    assert [r["number"] for r in rows] == [r.number for r in seeded if r.app == "internal"]
    assert b"exported 17 requests" in result.stderr


def test_serve_streams_the_whole_export_chunked(tmp_path: Path) -> None:
    shutil.copy(ROOT / "featurebridge.example.toml", tmp_path / "featurebridge.toml")
    store = SQLiteStore(tmp_path / "featurebridge.db")
    for i in range(40):
        store.upsert_request(replace(awkward_request(i), app="demo"))
    store.close()
    port = free_port()
    process = start_serve(tmp_path, port, FEATUREBRIDGE_ADMIN_TOKEN="operator-secret")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", f"{URL}?format=csv&stream=true&limit=3", headers=OPERATOR)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        rows = csv_objects(response.read().decode("utf-8"))
        assert [r["number"] for r in rows] == list(range(1, 41))
        connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
