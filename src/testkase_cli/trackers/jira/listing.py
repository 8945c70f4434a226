"""Streaming issue listings: Cloud's token-paged enhanced search, Server's search by id ranges.

Cloud: one page with fields (100 max); when there is more, the ids are listed 5000 a page
(`fields=id`) and fetched with `issue/bulkfetch` in batches of 100 on a small thread pool,
in order, while the next id page is already on its way. Server: pages of up to 1000 (the
default cap of `maxResults`), each after the last id read, one request ahead (see
`ServerSearch`). Both hold at most a few pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from testkase_cli.errors import RejectedError
from testkase_cli.trackers.http import Funnel

T = TypeVar("T")
R = TypeVar("R")

CLOUD_FIELDS_PAGE = 100
CLOUD_IDS_PAGE = 5000
BULK_BATCH = 100
SERVER_PAGE = 1000
ROUNDS = 5  # listings of what changed during the previous one, at most
ANCHORS = 5  # ids of a page tried, from its end, when the last one was deleted meanwhile
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
    """`/rest/api/2/search`, read by id ranges (keyset) rather than deep offsets.

    Offsets shift when issues are edited, deleted or leave the filter during a listing
    (issues are skipped or read twice), and Data Center refuses offsets past its search
    window (10,000 by default with OpenSearch). Every request here starts at offset 0:
    `<filter> AND id > <last id read> ORDER BY id ASC`, with the next page requested while
    the current one is consumed.
    """

    def __init__(self, http: Funnel, api: str) -> None:
        self.http = http
        self.api = api

    def page(
        self, jql: str, fields: Sequence[str], properties: Sequence[str] = ()
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "jql": jql,
            "startAt": 0,
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
        """Every issue matching the filter `jql` (no ORDER BY), in id order, each once.

        An issue that matches throughout is listed whatever else changes meanwhile.
        """

        def fetch(after: list[str]) -> dict[str, Any]:
            # `after`: ids of the page just read. Data Center refuses `id > X` once X is
            # deleted ("does not exist"): an earlier id of that page is as good an anchor
            # (what is read twice is dropped by the caller).
            if not after:
                return self.page(f"{jql} ORDER BY id ASC", fields, properties)
            anchors = [*reversed(after[-ANCHORS:]), after[0]]
            for anchor in anchors[:-1]:
                try:
                    return self.page(
                        f"({jql}) AND id > {anchor} ORDER BY id ASC", fields, properties
                    )
                except RejectedError as exc:
                    if "does not exist" not in exc.message:
                        raise
            return self.page(f"({jql}) AND id > {anchors[-1]} ORDER BY id ASC", fields, properties)

        with ThreadPoolExecutor(1, thread_name_prefix="jira-pages") as pool:
            upcoming = pool.submit(fetch, [])
            while True:
                data = upcoming.result()
                issues = data.get("issues", [])
                more = bool(issues) and len(issues) < int(data.get("total", 0))
                if more:
                    upcoming = pool.submit(fetch, [str(issue["id"]) for issue in issues])
                yield from issues
                if not more:
                    return

    def changed(
        self, jql: str, fields: Sequence[str], since: Callable[[str], str]
    ) -> Iterator[Issue]:
        """The issues matching `jql`, for a sync: what changed meanwhile is read again.

        The first page is the newest issues; when it holds them all (an incremental sync,
        usually) that is the listing. Otherwise the id-ordered listing follows, and then
        the issues updated since the newest one of the first page (`since` turns its
        `updated` into a JQL clause), read the same way until a round fits in one page (at
        most ROUNDS): an issue edited after the listing read it comes again, newer.
        """
        for _ in range(ROUNDS):
            first = self.page(f"{jql} ORDER BY updated DESC, id DESC", fields)
            shown = first.get("issues", [])
            yield from shown
            if not shown or len(shown) >= int(first.get("total", 0)):
                return
            yield from self.issues(jql, fields)
            newest = str(shown[0].get("fields", {}).get("updated") or "")
            if not newest:
                return
            jql = f"({jql}) AND {since(newest)}"

    def ids(self, jql: str) -> Iterator[str]:
        for issue in self.issues(jql, ["id"]):
            yield str(issue["id"])
