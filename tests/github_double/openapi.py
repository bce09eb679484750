"""GitHub's REST description: load once, match requests to operations, validate.

The description is ``@octokit/openapi``'s ``api.github.com.json`` (OpenAPI 3.0.3 with
``$ref``s left in). It is parsed lazily, once per process, and shared by every double.
Schemas are validated with jsonschema's Draft 2020-12 validator taught OpenAPI 3.0's
``nullable``; ``$ref``s resolve through a ``referencing`` registry holding the whole
document, so nothing is dereferenced up front.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema  # type: ignore[import-untyped]  # no stubs in the lock file
from referencing import Registry
from referencing.jsonschema import DRAFT202012

DESCRIPTION_PATH = (
    Path(__file__).resolve().parents[2]
    / "node_modules/@octokit/openapi/generated/api.github.com.json"
)
_DOC_URI = "urn:github-double:api.github.com.json"
_PARAM = re.compile(r"\{([^}]+)\}")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _nullable_aware(keyword: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Wrap a keyword so that ``None`` passes wherever OpenAPI 3.0 says ``nullable``."""

    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if instance is None and isinstance(schema, dict) and schema.get("nullable") is True:
            return
        yield from keyword(validator, value, instance, schema)

    return check


# Draft 2020-12 reads ``type``/``enum``/``$ref``/``oneOf`` the way OpenAPI 3.0 means them,
# except that 3.0 marks null-ability with ``nullable: true`` beside them; every keyword is
# wrapped so a schema saying ``nullable`` accepts null whatever else it says.
_Base = jsonschema.Draft202012Validator
OpenAPIValidator = jsonschema.validators.extend(
    _Base, {name: _nullable_aware(fn) for name, fn in _Base.VALIDATORS.items()}
)


def _pointer(*parts: str) -> str:
    """A JSON pointer URI into the description (RFC 6901 escaping, then URI quoting)."""
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return _DOC_URI + "#/" + "/".join(quote(part, safe="~") for part in escaped)


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented method + path template, with what validation needs of it."""

    method: str
    template: str
    operation_id: str
    spec: Mapping[str, Any]
    query_params: Mapping[str, Mapping[str, Any]]


@dataclass(slots=True)
class _Node:
    """A trie node: one path segment deep."""

    literal: dict[str, _Node] = field(default_factory=dict)
    mixed: list[tuple[re.Pattern[str], _Node]] = field(default_factory=list)
    param: _Node | None = None
    operations: dict[str, Operation] = field(default_factory=dict)


class Description:
    """The parsed description with an operation trie and cached validators."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._registry: Registry[Any] = Registry().with_resource(
            _DOC_URI, DRAFT202012.create_resource(document)
        )
        self._root = _Node()
        self._validators: dict[str, Any] = {}
        self._lock = threading.Lock()
        for template, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method in _METHODS:
                if method in item:
                    self._add(template, method.upper(), item[method], shared)

    # ------------------------------------------------------------------ matching

    def _add(self, template: str, method: str, spec: Mapping[str, Any], shared: list[Any]) -> None:
        node = self._root
        for segment in template.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}") and segment.count("{") == 1:
                node.param = node.param or _Node()
                node = node.param
            elif "{" in segment:
                # e.g. ``{base}...{head}``: a regex over that one segment.
                pattern = re.compile(
                    "".join(
                        "[^/]+?" if part.startswith("{") else re.escape(part)
                        for part in re.split(r"(\{[^}]+\})", segment)
                        if part
                    )
                    + r"\Z"
                )
                child = _Node()
                node.mixed.append((pattern, child))
                node = child
            else:
                node = node.literal.setdefault(segment, _Node())
        query = {}
        for param in [*shared, *spec.get("parameters", [])]:
            resolved = self.resolve(param)
            if resolved.get("in") == "query":
                query[resolved["name"]] = self.resolve(resolved.get("schema", {}))
        node.operations[method] = Operation(
            method, template, spec.get("operationId", ""), spec, query
        )

    def match(self, method: str, segments: list[str]) -> Operation | None:
        """The operation for ``method`` on a path split into (decoded) segments.

        Each parameter spans exactly one segment; literal segments beat mixed ones
        beat plain parameters, so ``/issues/comments`` wins over ``/issues/{number}``.
        """
        return self._walk(self._root, segments, 0, method)

    def _walk(self, node: _Node, segments: list[str], i: int, method: str) -> Operation | None:
        if i == len(segments):
            return node.operations.get(method)
        segment = segments[i]
        candidates: list[_Node] = []
        if segment in node.literal:
            candidates.append(node.literal[segment])
        candidates.extend(child for pattern, child in node.mixed if pattern.match(segment))
        if node.param is not None and segment:
            candidates.append(node.param)
        for child in candidates:
            found = self._walk(child, segments, i + 1, method)
            if found is not None:
                return found
        return None

    # ------------------------------------------------------------------ schemas

    def resolve(self, obj: Any) -> Any:
        """Follow ``$ref`` chains inside the description (``#/components/...``)."""
        while isinstance(obj, dict) and "$ref" in obj:
            target: Any = self.document
            for part in obj["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            obj = target
        return obj

    def _validator(self, *parts: str) -> Any:
        """A cached validator for the schema at a pointer in the description."""
        key = "/".join(parts)
        validator = self._validators.get(key)
        if validator is None:
            validator = OpenAPIValidator({"$ref": _pointer(*parts)}, registry=self._registry)
            with self._lock:
                self._validators[key] = validator
        return validator

    def request_body_schema(self, op: Operation) -> tuple[Any, bool] | None:
        """The JSON schema of the operation's body and whether a body is required."""
        body = self.resolve(op.spec.get("requestBody"))
        if not body:
            return None
        content = body.get("content", {})
        if "application/json" not in content:
            return None
        return self.resolve(content["application/json"].get("schema", {})), bool(
            body.get("required")
        )

    def body_errors(self, op: Operation, body: Any) -> list[str]:
        """Schema errors of a JSON request body (``[]`` when valid)."""
        parts = self._body_pointer(op)
        if parts is None:
            return []
        return _messages(self._validator(*parts).iter_errors(body))

    def _body_pointer(self, op: Operation) -> tuple[str, ...] | None:
        spec_body = op.spec.get("requestBody")
        if spec_body is None:
            return None
        base: tuple[str, ...]
        if "$ref" in spec_body:
            base = tuple(spec_body["$ref"].removeprefix("#/").split("/"))
        else:
            base = ("paths", op.template, op.method.lower(), "requestBody")
        if "application/json" not in self.resolve(spec_body).get("content", {}):
            return None
        return (*base, "content", "application/json", "schema")

    def unknown_body_fields(self, op: Operation, body: Any) -> list[str]:
        """Top-level body fields the schema does not list.

        GitHub silently ignores them, which hides typos such as ``state_reasons``;
        only plain object schemas are checked (no composition, no additionalProperties).
        """
        found = self.request_body_schema(op)
        if found is None or not isinstance(body, dict):
            return []
        schema = found[0]
        if not isinstance(schema, dict) or "properties" not in schema:
            return []
        if any(k in schema for k in ("additionalProperties", "allOf", "oneOf", "anyOf")):
            return []
        return sorted(set(body) - set(schema["properties"]))

    def query_errors(self, op: Operation, query: Mapping[str, str]) -> list[str]:
        """Unknown query parameter names and values outside a documented enum/type."""
        errors = []
        for name, value in query.items():
            schema = op.query_params.get(name)
            if schema is None:
                errors.append(f"unknown query parameter {name!r}")
                continue
            if "enum" in schema and value not in schema["enum"]:
                errors.append(f"query parameter {name}={value!r} is not one of {schema['enum']}")
            elif schema.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
                errors.append(f"query parameter {name}={value!r} is not an integer")
            elif schema.get("type") == "boolean" and value not in ("true", "false"):
                errors.append(f"query parameter {name}={value!r} is not a boolean")
        return errors

    def response_errors(
        self, op: Operation, status: int, body: Any, *, undocumented_ok: bool = False
    ) -> list[str]:
        """Schema errors of a JSON response body against the documented response.

        ``undocumented_ok`` accepts statuses the operation does not list (GitHub answers
        401 or 404 everywhere but documents them on few operations).
        """
        responses = op.spec.get("responses", {})
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            return [] if undocumented_ok else [f"status {status} is not documented"]
        response = responses[key]
        base: tuple[str, ...]
        if "$ref" in response:
            base = tuple(response["$ref"].removeprefix("#/").split("/"))
        else:
            base = ("paths", op.template, op.method.lower(), "responses", key)
        content = self.resolve(response).get("content", {})
        if "application/json" not in content:
            return [] if body is None else [f"status {status} documents no JSON body"]
        return _messages(
            self._validator(*base, "content", "application/json", "schema").iter_errors(body)
        )


def _messages(errors: Iterator[Any]) -> list[str]:
    out = []
    for error in errors:
        message = error.message
        if len(message) > 300:
            message = message[:300] + "..."
        out.append(f"{error.json_path}: {message}")
    return out


_lock = threading.Lock()
_cached: Description | None = None


def description() -> Description:
    """The process-wide Description, parsed on first use (about 0.3 s)."""
    global _cached  # noqa: PLW0603 - a per-process cache is the point
    if _cached is None:
        with _lock:
            if _cached is None:
                with DESCRIPTION_PATH.open("rb") as fh:
                    _cached = Description(json.load(fh))
    return _cached
