"""Streaming issue listings: Cloud's token-paged enhanced search, Server's search by id ranges.

Cloud: one page with fields (100 max); when there is more, the ids are listed 5000 a page
(`fields=id`) and fetched with `issue/bulkfetch` in batches of 100 on a small thread pool,
in order, while the next id page is already on its way. Server: pages of up to 1000 (the
default cap of `maxResults`), each after the last id read, one request ahead (see
`ServerSearch`). Both hold at most a few pages.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from testkase_cli.errors import RejectedError
from testkase_cli.trackers.http import Funnel

T = TypeVar("T")
R = TypeVar("R")

CLOUD_FIELDS_PAGE = 100
CLOUD_IDS_PAGE = 5000
BULK_BATCH = 100
SERVER_PAGE = 1000
SEGMENTS = 3  # id segments of a large Server listing read at once
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
        """Ids of the issues matching the filter `jql` (no ORDER BY)."""
        for page in self.id_pages(f"{jql} ORDER BY id ASC"):
            yield from page

    def changed(
        self, jql: str, fields: Sequence[str], since: Callable[[str], str]
    ) -> Iterator[Issue]:
        """The issues matching the filter `jql`, oldest update first, for a sync.

        The page token continues after the last issue read, so one edited meanwhile comes
        again at the end, newer: `since` (see ServerSearch.changed) is not needed here.
        """
        return self.issues(f"{jql} ORDER BY updated ASC, id ASC", fields)

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
            pages = _prefetched(pool, self.id_pages(jql))
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


class ServerSearch:
    """`/rest/api/2/search`, read by id ranges (keyset) rather than deep offsets.

    Offsets shift when issues are edited, deleted or leave the filter during a listing
    (issues are skipped or read twice), and Data Center refuses offsets past its search
    window (10,000 by default with OpenSearch). Every request here starts at offset 0:
    `<filter> AND id > <last id read> ORDER BY id ASC`. A large sync listing is cut into
    SEGMENTS id ranges read at the same time (the cuts are ids from its first page).
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
        self,
        jql: str,
        fields: Sequence[str],
        properties: Sequence[str] = (),
        *,
        cuts: Sequence[str] = (),
    ) -> Iterator[Issue]:
        """Every issue matching the filter `jql` (no ORDER BY), each once.

        An issue that matches throughout is listed whatever else changes meanwhile. `cuts`
        (ids of issues, ascending) split the ids into segments read at the same time, each
        in id order; without them, one segment with its next page requested while the
        current one is consumed.
        """
        ends = list(zip([None, *cuts], [*cuts, None], strict=True))
        readers = [partial(self._segment, jql, fields, properties, lo, hi) for lo, hi in ends]
        if len(readers) == 1:
            with ThreadPoolExecutor(1, thread_name_prefix="jira-pages") as pool:
                for page in _prefetched(pool, readers[0]()):
                    yield from page
            return
        yield from _merged(readers)

    def _segment(
        self,
        jql: str,
        fields: Sequence[str],
        properties: Sequence[str],
        low: str | None,
        high: str | None,
    ) -> Iterator[list[Issue]]:
        """Pages of the issues with low < id <= high, by id ranges.

        Data Center refuses a bound naming a deleted issue. A deleted `high` is dropped
        (the segment reads on to the end); a deleted anchor is replaced by an earlier id of
        the page just read, else the segment starts again (what is read twice is dropped by
        the caller).
        """
        after = [low] if low else []
        while True:
            scope = f"({jql}) AND id <= {high}" if high else jql
            try:
                data = self._after(scope, after, fields, properties)
            except RejectedError as exc:
                if high is None or not _names(exc, high):
                    raise
                high = None
                continue
            issues = data.get("issues", [])
            if issues:
                yield issues
            if not issues or len(issues) >= int(data.get("total", 0)):
                return
            after = [str(issue["id"]) for issue in issues]

    def _after(
        self, scope: str, after: list[str], fields: Sequence[str], properties: Sequence[str]
    ) -> dict[str, Any]:
        """The first page of `scope` past the ids `after` (the page just read)."""
        for anchor in [*reversed(after[-ANCHORS:]), *after[:1]]:
            try:
                return self.page(f"({scope}) AND id > {anchor} ORDER BY id ASC", fields, properties)
            except RejectedError as exc:
                if not _names(exc, anchor):
                    raise
        return self.page(f"{scope} ORDER BY id ASC", fields, properties)

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
            yield from self.issues(jql, fields, cuts=_cuts(shown, SEGMENTS))
            newest = str(shown[0].get("fields", {}).get("updated") or "")
            if not newest:
                return
            jql = f"({jql}) AND {since(newest)}"

    def ids(self, jql: str) -> Iterator[str]:
        for issue in self.issues(jql, ["id"]):
            yield str(issue["id"])


def _names(error: RejectedError, issue_id: str) -> bool:
    """Whether Jira refused the search because the issue `issue_id` does not exist."""
    return "does not exist" in error.message and f"'{issue_id}'" in error.message


def _cuts(sample: Sequence[Issue], parts: int) -> list[str]:
    """Ids splitting the ids of `sample` (issues spread over the listing) into `parts`."""
    ids = sorted({int(i["id"]) for i in sample if str(i.get("id", "")).isdigit()})
    return [str(ids[len(ids) * n // parts]) for n in range(1, parts)] if len(ids) >= parts else []


def _prefetched(pool: ThreadPoolExecutor, pages: Iterator[T]) -> Iterator[T]:
    """Yield from `pages` while its next item is already being produced."""
    upcoming = pool.submit(next, pages, None)
    while True:
        page = upcoming.result()
        if page is None:
            return
        upcoming = pool.submit(next, pages, None)
        yield page


def _merged(readers: Sequence[Callable[[], Iterator[list[Issue]]]]) -> Iterator[Issue]:
    """The pages of all `readers` at once, each as it comes.

    Memory stays bounded: a reader waits while one page is waiting for the consumer. An
    error in a reader ends the listing with that error; so does the consumer stopping.
    """
    handoff: queue.Queue[list[Issue] | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: list[Issue] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(read: Callable[[], Iterator[list[Issue]]]) -> None:
        try:
            for page in read():
                if not put(page):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
            return
        put(None)

    with ThreadPoolExecutor(len(readers), thread_name_prefix="jira-segments") as pool:
        for read in readers:
            pool.submit(run, read)
        try:
            running = len(readers)
            while running:
                item = handoff.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield from item
        finally:
            stop.set()
