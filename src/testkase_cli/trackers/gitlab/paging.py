"""Listing GitLab collections, following `rel="next"` links as given (api-notes section 4).

Project issues, the big listings, go through listing.py (`Pager.issues`). Other
collections (projects, notes) are small: their first page tells `X-Total-Pages` when there
are at most 10,000 results, and pages 2..N are then fetched by a small thread pool over
the one (thread-safe) HTTP client, a bounded window ahead, and yielded in order; without
a total, `rel="next"` is followed one page after another.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from testkase_cli.errors import UnreachableError
from testkase_cli.trackers.gitlab.listing import IssueListing
from testkase_cli.trackers.http import Funnel

J = TypeVar("J", list[Any], dict[str, Any])
PER_PAGE = 100
WORKERS = 4
AHEAD = 8

_LINK = re.compile(r'<(?P<url>[^>]*)>\s*;\s*rel="(?P<rel>[^"]*)"')
_PAGE = re.compile(r"([?&])page=\d+")


def links(response: httpx.Response) -> dict[str, str]:
    return {m["rel"]: m["url"] for m in _LINK.finditer(response.headers.get("Link", ""))}


def next_link(response: httpx.Response) -> str | None:
    """`rel="next"`; when a proxy dropped the Link header, the `X-Next-Page` number."""
    link = links(response).get("next")
    if link is not None:
        return link
    number = response.headers.get("X-Next-Page", "")
    if number.isdigit():
        return str(response.request.url.copy_set_param("page", number))
    return None


def json_of(response: httpx.Response, kind: type[J]) -> J:
    """The JSON body, which must be a `kind` (list or dict); anything else is not GitLab."""
    try:
        data = response.json()
    except ValueError as exc:
        raise UnreachableError(
            f"{response.request.url.host} did not answer {response.request.url.path} with JSON",
            hint="check that --url is the GitLab instance root (the API lives at /api/v4); "
            "a proxy or sign-in page may be in the way",
            code="not_gitlab",
        ) from exc
    if not isinstance(data, kind):
        raise UnreachableError(
            f"GitLab answered {response.request.url.path} with {type(data).__name__}, "
            f"not a {kind.__name__}",
            code="not_gitlab",
        )
    return data


def json_list(response: httpx.Response) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json_of(response, list)
    return items


class Pager:
    """Iterates a collection endpoint; every request goes through the funnel."""

    def __init__(self, funnel: Funnel) -> None:
        self.funnel = funnel
        base = urlsplit(funnel.base_url)
        self._origin = (base.scheme, base.netloc)

    def _get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return self.funnel.request("GET", url, params=params, listing=True)

    def follow(self, url: str) -> str:
        """A Link URL on our own origin: GitLab builds links from its configured external
        URL, which may differ from the URL we reach it by (and the token must not leave)."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) == self._origin:
            return url
        return urlunsplit((*self._origin, parts.path, parts.query, parts.fragment))

    def issues(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """A project's issues ordered by `updated_at` (`params` give the filter): every
        issue once, oldest update first; one changed meanwhile may come again, newer."""

        def get(query: Mapping[str, Any]) -> httpx.Response:
            return self.funnel.request("GET", path, params=query, ok=(200, 405), listing=True)

        return iter(IssueListing(get, json_list, {**params, "order_by": "updated_at"}))

    def iterate(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item once, in the endpoint's order, by offset pages."""
        query = {**params, "per_page": PER_PAGE}
        first = self._get(path, query)
        yield from json_list(first)
        next_url = next_link(first)
        if next_url is None:
            return
        total_pages = first.headers.get("X-Total-Pages", "")
        if total_pages.isdigit():
            yield from self._parallel(next_url, int(total_pages))
            return
        while next_url is not None:
            response = self._get(self.follow(next_url))
            yield from json_list(response)
            next_url = next_link(response)

    def iterate_sequential(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Follow `rel="next"` one page after another (short pages do not mean the end)."""
        response = self._get(path, {**params, "per_page": PER_PAGE})
        while True:
            yield from json_list(response)
            next_url = next_link(response)
            if next_url is None:
                return
            response = self._get(self.follow(next_url))

    def _parallel(self, next_url: str, total_pages: int) -> Iterator[dict[str, Any]]:
        template = self.follow(next_url)
        if not _PAGE.search(template):
            raise UnreachableError(
                "GitLab's next-page link carries no page number", code="bad_paging"
            )
        urls = (_PAGE.sub(rf"\g<1>page={n}", template, count=1) for n in range(2, total_pages + 1))
        pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="gitlab-page")
        pending: deque[Future[httpx.Response]] = deque()
        try:
            for url in urls:
                pending.append(pool.submit(self._get, url))
                if len(pending) >= AHEAD:
                    yield from json_list(pending.popleft().result())
            while pending:
                yield from json_list(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
