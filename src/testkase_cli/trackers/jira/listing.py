"""Streaming issue listings: Cloud's token-paged enhanced search, Server's offset search.

Cloud: one page with fields (100 max); when there is more, the ids are listed 5000 a page
(`fields=id`) and fetched with `issue/bulkfetch` in batches of 100 on a small thread pool,
in order, while the next id page is already on its way. Server: the first page tells
`total` and the real page size (`maxResults` is capped silently), the rest are fetched in
parallel. Both yield issues in the search's order and hold at most a window of pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from testkase_cli.trackers.http import Funnel

T = TypeVar("T")
R = TypeVar("R")

CLOUD_FIELDS_PAGE = 100
CLOUD_IDS_PAGE = 5000
BULK_BATCH = 100
SERVER_PAGE = 1000
WORKERS = 6

Issue = dict[str, Any]


def ordered_map(
    pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Iterable[T], *, window: int
) -> Iterator[R]:
    """`map` over a pool, in order, with at most `window` calls in flight."""
    pending: list[Future[R]] = []
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


class CloudSearch:
    """`/rest/api/3/search/jql` + `/rest/api/3/issue/bulkfetch`."""

    def __init__(self, http: Funnel, api: str) -> None:
        self.http = http
        self.api = api

    def page(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        size: int,
        token: str | None = None,
        properties: Sequence[str] = (),
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": size}
        if token:
            body["nextPageToken"] = token
        if properties:
            body["properties"] = list(properties)
        response = self.http.request(
            "POST", f"{self.api}/search/jql", json=body, listing=True, idempotent=True
        )
        data: dict[str, Any] = response.json()
        return data

    def id_pages(self, jql: str) -> Iterator[list[str]]:
        token: str | None = None
        while True:
            data = self.page(jql, ["id"], size=CLOUD_IDS_PAGE, token=token)
            yield [str(issue["id"]) for issue in data.get("issues", [])]
            token = data.get("nextPageToken")
            if data.get("isLast", True) or not token:
                return

    def ids(self, jql: str) -> Iterator[str]:
        for page in self.id_pages(jql):
            yield from page

    def bulkfetch(
        self, refs: Sequence[str], fields: Sequence[str], properties: Sequence[str] = ()
    ) -> list[Issue]:
        body: dict[str, Any] = {"issueIdsOrKeys": list(refs), "fields": list(fields)}
        if properties:
            body["properties"] = list(properties)
        response = self.http.request(
            "POST", f"{self.api}/issue/bulkfetch", json=body, listing=True, idempotent=True
        )
        issues: list[Issue] = response.json().get("issues", [])
        return issues

    def issues(
        self, jql: str, fields: Sequence[str], properties: Sequence[str] = ()
    ) -> Iterator[Issue]:
        first = self.page(jql, fields, size=CLOUD_FIELDS_PAGE, properties=properties)
        shown = first.get("issues", [])
        yield from shown
        if first.get("isLast", True) or not first.get("nextPageToken"):
            return
        already = {str(issue["id"]) for issue in shown}
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="jira-bulk") as pool:
            pages = self._prefetched(pool, self.id_pages(jql))
            for page in pages:
                batches = [
                    [ref for ref in page[i : i + BULK_BATCH] if ref not in already]
                    for i in range(0, len(page), BULK_BATCH)
                ]

                def fetch(batch: list[str]) -> list[Issue]:
                    if not batch:
                        return []
                    found = {str(i["id"]): i for i in self.bulkfetch(batch, fields, properties)}
                    return [found[ref] for ref in batch if ref in found]

                for fetched in ordered_map(pool, fetch, batches, window=WORKERS * 2):
                    yield from fetched

    @staticmethod
    def _prefetched(pool: ThreadPoolExecutor, pages: Iterator[list[str]]) -> Iterator[list[str]]:
        """Yield id pages while the next one is already being fetched."""
        upcoming = pool.submit(next, pages, None)
        while True:
            page = upcoming.result()
            if page is None:
                return
            upcoming = pool.submit(next, pages, None)
            yield page


class ServerSearch:
    """`/rest/api/2/search` with `startAt`/`maxResults`/`total`."""

    def __init__(self, http: Funnel, api: str) -> None:
        self.http = http
        self.api = api

    def page(
        self, jql: str, fields: Sequence[str], start: int, properties: Sequence[str] = ()
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "jql": jql,
            "startAt": start,
            "maxResults": SERVER_PAGE,
            "fields": ",".join(fields),
        }
        if properties:
            params["properties"] = ",".join(properties)
        response = self.http.request("GET", f"{self.api}/search", params=params, listing=True)
        data: dict[str, Any] = response.json()
        return data

    def issues(
        self, jql: str, fields: Sequence[str], properties: Sequence[str] = ()
    ) -> Iterator[Issue]:
        first = self.page(jql, fields, 0, properties)
        shown = first.get("issues", [])
        yield from shown
        total = int(first.get("total", 0))
        size = int(first.get("maxResults") or 0) or len(shown)
        if not shown or size <= 0 or len(shown) >= total:
            return
        starts = range(len(shown), total, size)
        with ThreadPoolExecutor(4, thread_name_prefix="jira-pages") as pool:
            for data in ordered_map(
                pool, lambda s: self.page(jql, fields, s, properties), starts, window=8
            ):
                yield from data.get("issues", [])

    def ids(self, jql: str) -> Iterator[str]:
        for issue in self.issues(jql, ["id"]):
            yield str(issue["id"])
