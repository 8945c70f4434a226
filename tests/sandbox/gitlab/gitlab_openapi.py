"""GitLab's own OpenAPI document (shared/openapi), made usable as a response validator.

The document is Swagger 2.0 generated from Grape and converted to OAS 3 (SOURCES.md
there), with known defects that the live API and the samples contradict. `relax` encodes
exactly those, and nothing else:
- nothing can be marked nullable in Swagger 2.0: every value may also be null;
- untyped Grape exposures come out as a bare `{type: string}` (no example, no format):
  `user_notes_count`, `moved_to_id`, `system`... are any JSON value;
- a `$ref` may hold a list where one object is declared (`assignees`); the project
  issues list is declared as a single Issue: each item is validated instead;
- `personal_access_tokens/self` `expires_at` is a date `YYYY-MM-DD` (api-notes section 2),
  not the declared date-time.
Timestamps are checked as GitLab renders them: ISO 8601 with milliseconds and a zone.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT7

ROOT = "urn:gitlab-openapi"
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KNOWN_DEFECTS = {("API_Entities_PersonalAccessTokenWithLastUsedIps", "expires_at"): "date"}


def relax(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = {"$ref": ROOT + schema["$ref"]}
        return {"anyOf": [target, {"type": "array", "items": target}, {"type": "null"}]}
    if schema.get("type") == "string" and not ({"format", "enum", "example"} & set(schema)):
        return {}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("example", "nullable", "description", "default"):
            continue
        if key == "properties":
            out[key] = {name: relax(prop) for name, prop in value.items()}
        elif key == "items":
            out[key] = relax(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [relax(part) for part in value]
        else:
            out[key] = value
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


class OpenApi:
    """The parsed document (parse once per session: it is 2.3 MB of YAML)."""

    def __init__(self, path: Path) -> None:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with path.open(encoding="utf-8") as handle:
            self.document: dict[str, Any] = yaml.load(handle, Loader=loader)  # noqa: S506

    @cached_property
    def _registry(self) -> Registry[Any]:
        schemas = {
            name: relax(schema) for name, schema in self.document["components"]["schemas"].items()
        }
        for (name, prop), fmt in KNOWN_DEFECTS.items():
            schemas[name]["properties"][prop] = {"type": ["string", "null"], "format": fmt}
        root = {"components": {"schemas": schemas}}
        return Registry().with_resource(ROOT, DRAFT7.create_resource(root))

    def validator(self, schema_name: str) -> jsonschema.Draft7Validator:
        checker = jsonschema.FormatChecker(formats=())
        checker.checks("date-time")(
            lambda value: not isinstance(value, str) or bool(DATE_TIME.match(value))
        )
        checker.checks("date")(lambda value: not isinstance(value, str) or bool(DATE.match(value)))
        return jsonschema.Draft7Validator(
            {"$ref": f"{ROOT}#/components/schemas/{schema_name}"},
            registry=self._registry,
            format_checker=checker,
        )

    def response_schema(self, path: str, method: str, status: str) -> str:
        """The component a response is declared as (e.g. `API_Entities_Issue`)."""
        content = self.document["paths"][path][method]["responses"][status]["content"]
        schema = content["application/json"]["schema"]
        ref = schema.get("$ref") or schema["items"]["$ref"]
        return str(ref.rsplit("/", 1)[1])

    def operation(self, path: str, method: str) -> dict[str, Any]:
        operation: dict[str, Any] = self.document["paths"][path][method]
        return operation

    def query_params(self, path: str, method: str) -> set[str]:
        return {
            p["name"]
            for p in self.operation(path, method).get("parameters", [])
            if p["in"] == "query"
        }

    def body_params(self, path: str, method: str) -> set[str]:
        body = self.operation(path, method).get("requestBody")
        if body is None:
            return set()
        ref = body["content"]["application/json"]["schema"]["$ref"]
        schema = self.document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return set(schema.get("properties", {}))

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str, set[str]]]:
        compiled = [
            (re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t))), t, set(ops))
            for t, ops in self.document["paths"].items()
        ]
        return sorted(compiled, key=lambda entry: entry[1].count("{"))

    def match(self, method: str, path: str) -> str | None:
        """The document's path template for a concrete request path, if it has one."""
        for pattern, template, methods in self._templates:
            if method.lower() in methods and pattern.fullmatch(path):
                return template
        return None
