"""Routes, request parameters and pagination headers the way GitLab's Grape API has them.

Offset pages carry X-Page, X-Per-Page, X-Next-Page and X-Prev-Page (empty when none),
X-Total and X-Total-Pages (omitted above 10,000 results) and a Link header with absolute
URLs built from the instance's configured URL and *all* Grape params (route id and
defaulted params included, Rails `to_query`: arrays as `k[]=v`, keys sorted, datetimes
without fractional seconds). Keyset pages carry only `Link: <...cursor=...>; rel="next"`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote_plus

from testkase_cli.sandbox.core import Request, Response, json_response
from testkase_cli.sandbox.gitlab_state import MAX_COUNT_LIMIT, OFFSET_PAGINATION_LIMIT, parse_time

T = TypeVar("T")

API = "/api/v4"
PROJECT = rf"{API}/projects/(?P<pid>[^/]+)"
ISSUE = rf"{PROJECT}/issues/(?P<iid>[^/]+)"
FORBIDDEN = {"message": "403 Forbidden"}

ARRAY_PARAMS = frozenset(
    {
        "labels",
        "not[labels]",
        "iids",
        "not[iids]",
        "assignee_username",
        "add_labels",
        "remove_labels",
    }
)
DATETIME_PARAMS = frozenset({"updated_after", "updated_before", "created_after", "created_before"})


class Params:
    """Query string and body (JSON or form) merged, as Grape sees them."""

    def __init__(self, request: Request) -> None:
        self.values: dict[str, list[str]] = {}
        for key, values in request.query.items():
            self._add(key, values)
        content_type = request.headers.get("content-type", "")
        if not request.body:
            return
        if "json" in content_type:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
            if isinstance(body, dict):
                self._add_json(body, "")
        elif "x-www-form-urlencoded" in content_type:
            for key, values in parse_qs(request.body.decode(), keep_blank_values=True).items():
                self._add(key, values)

    def _add(self, key: str, values: list[str]) -> None:
        name = key[:-2] if key.endswith("[]") else key
        self.values.setdefault(name, []).extend(values)

    def _add_json(self, body: dict[str, Any], prefix: str) -> None:
        for key, value in body.items():
            name = f"{prefix}[{key}]" if prefix else str(key)
            if isinstance(value, dict):
                self._add_json(value, name)
            elif isinstance(value, list):
                self._add(name, [_scalar(v) for v in value])
            elif value is not None:
                self._add(name, [_scalar(value)])

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[0] if values else None

    def list(self, name: str) -> list[str]:
        """Grape's CommaSeparatedToArray: every value split on commas and stripped."""
        out: list[str] = []
        for value in self.values.get(name, []):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bad_request(errors: list[str]) -> Response:
    return json_response(400, {"error": ", ".join(errors)})


def int_param(params: Params, name: str, default: int, errors: list[str]) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        errors.append(f"{name} is invalid")
        return default


def to_query(params: dict[str, Any]) -> str:
    """Rails Hash#to_query: CGI-escaped, arrays as `k[]=v`, segments sorted."""
    segments: list[str] = []
    for key, value in params.items():
        if isinstance(value, list):
            if value:
                segments.append(
                    "&".join(f"{quote_plus(key + '[]')}={quote_plus(v)}" for v in value)
                )
        else:
            segments.append(f"{quote_plus(key)}={quote_plus(str(value))}")
    return "&".join(sorted(segments))


def grape_value(name: str, params: Params) -> Any:
    """A param as Grape coerced it, for echoing in Link URLs."""
    if name in ARRAY_PARAMS:
        return params.list(name)
    raw = params.get(name) or ""
    if name in DATETIME_PARAMS:
        millis = parse_time(raw)
        if millis is not None:
            moment = datetime.fromtimestamp(millis // 1000, UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return raw


@dataclass
class PageSpec:
    """Where the page's links point and which defaults Grape fills in."""

    url: str
    route: dict[str, str]
    defaults: dict[str, str]
    keyset_capable: bool = False


def link_params(params: Params, spec: PageSpec, **override: Any) -> dict[str, Any]:
    merged: dict[str, Any] = dict(spec.defaults)
    merged.update(spec.route)
    for name in params.values:
        if name in ("private_token", "cursor"):
            continue
        merged[name] = grape_value(name, params)
    merged.update(override)
    return merged


def offset_page(
    params: Params,
    spec: PageSpec,
    total: int,
    window: Callable[[int, int], Sequence[T]],
) -> tuple[Sequence[T], dict[str, str]] | Response:
    """One offset page: the items and every header of api-notes section 4."""
    errors: list[str] = []
    page = int_param(params, "page", 1, errors)
    requested = int_param(params, "per_page", 20, errors)
    if errors:
        return bad_request(errors)
    if spec.keyset_capable and page * requested > OFFSET_PAGINATION_LIMIT:
        return json_response(
            405,
            {
                "error": "Offset pagination has a maximum allowed offset of "
                f"{OFFSET_PAGINATION_LIMIT} for requests that return objects of type Issue. "
                "Remaining records can be retrieved using keyset pagination."
            },
        )
    page = max(page, 1)
    per_page = min(max(requested, 1) if requested > 0 else 20, 100)
    items = window((page - 1) * per_page, per_page)
    counted = total <= MAX_COUNT_LIMIT
    pages = max(1, -(-total // per_page))
    has_next = page * per_page < total
    has_prev = 1 < page <= pages
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Next-Page": str(page + 1) if has_next else "",
        "X-Prev-Page": str(page - 1) if has_prev else "",
    }
    if counted:
        headers["X-Total"] = str(total)
        headers["X-Total-Pages"] = str(pages)

    def href(number: int) -> str:
        return f"{spec.url}?{to_query(link_params(params, spec, page=str(number)))}"

    links = []
    if has_prev:
        links.append(f'<{href(page - 1)}>; rel="prev"')
    if has_next:
        links.append(f'<{href(page + 1)}>; rel="next"')
    links.append(f'<{href(1)}>; rel="first"')
    if counted:
        links.append(f'<{href(pages)}>; rel="last"')
    headers["Link"] = ", ".join(links)
    return items, headers


def encode_cursor(field: str, value: Any, item_id: int) -> str:
    if field in ("updated_at", "created_at"):
        moment = datetime.fromtimestamp(value // 1000, UTC)
        value = f"{moment:%Y-%m-%d %H:%M:%S}.{value % 1000:03d}000000 +0000"
    raw = json.dumps({field: value, "id": str(item_id), "_kd": "n"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, field: str) -> tuple[Any, int] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=="))
        value = data[field]
        item_id = int(data["id"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if field in ("updated_at", "created_at"):
        parsed = parse_time(str(value).replace(" +0000", "+00:00").replace("000000+", "+"))
        if parsed is None:
            return None
        value = parsed
    return value, item_id


def keyset_headers(params: Params, spec: PageSpec, cursor: str | None) -> dict[str, str]:
    if cursor is None:
        return {}
    query = link_params(params, spec, cursor=cursor)
    query.pop("page", None)
    return {"Link": f'<{spec.url}?{to_query(query)}>; rel="next"'}
