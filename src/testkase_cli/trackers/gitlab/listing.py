"""Listing a project's issues fast and exactly, at any size (api-notes/gitlab.md section 4).

The listing is ordered by `updated_at` ascending and cut into parts by `updated_at`:

1. The first page (100 issues) is asked for as is. Most incremental syncs end here: one
   request. Otherwise everything from the second of its last issue on remains.
2. The newest issue (`sort=desc&per_page=1`) fixes the end `b` of the closed part, a few
   seconds before it; its X-Total, when GitLab gives one (<= 10,000), is the size of the
   rest. Above that, offset probes (`per_page=1&page=k`, offsets < 50,000 so GitLab's
   offset cap never applies) find where every ~`SEGMENT`-th issue lies in time.
3. Closed segments `[lo, hi]` (whole seconds; `updated_after`/`updated_before` are
   inclusive) of at most 10,000 issues are paged by offset, all pages in parallel over
   the one HTTP client, a bounded window ahead, and yielded in order. An issue of a
   segment updated at or after `hi` is left to the next part, which lists it too.
4. What changed during the listing moved past `b` (GitLab sets `updated_at` to now on
   every change), so the open part `[b, now]` is walked last, one first page after
   another, each starting at the second of the previous page's last issue, until one
   page holds the rest: a single page is an atomic answer.

Offset pages are only exact while their result set stays put. A closed segment's set can
only shrink during the listing (an edit moves the issue past `b`, a deletion or label
change drops it), so a segment is exact when every page reports the same X-Total and a
count taken after its last page agrees: then no page saw another set. Otherwise (or if
GitLab gave no X-Total, or a 405 for a lowered offset cap) the segment is walked as in
4, skipping the issues it already yielded. Keyset cursors are not needed; the listing
works the same on instances before 18.3, which ignore `pagination=keyset`.

Each issue comes once, oldest update first, except that an issue changed during the
listing may come again later, as its newer version (the engine keeps the last one).
Assumptions: within one request GitLab counts (X-Total) before it loads the page, as its
`paginate` sets the headers before the records are presented (inferred from source); the
clocks of GitLab's nodes agree within `SETTLE`; no issue's `updated_at` moves backwards
(imports with historical timestamps during a listing are not covered); more than 100
issues updated within one second are paged by offset within that second.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from testkase_cli.errors import UnreachableError
from testkase_cli.trackers.gitlab.mapper import format_since, parse_time

Item = dict[str, Any]
Get = Callable[[Mapping[str, Any]], httpx.Response]
Decode = Callable[[httpx.Response], list[Item]]

PER_PAGE = 100
COUNTED = 10_000  # GitLab omits X-Total above this many results
SEGMENT = 8_000  # issues per closed segment aimed at, well under COUNTED
PROBES = 5  # offset probes per planning round: offsets up to 40,000 < the 50,000 cap
SETTLE = timedelta(seconds=5)
SECOND = timedelta(seconds=1)
WORKERS = 8
AHEAD = 24


def updated(item: Item) -> datetime:
    raw = item.get("updated_at") if isinstance(item, dict) else None
    try:
        if isinstance(raw, str):
            return parse_time(raw)
    except ValueError:
        pass
    raise UnreachableError(
        f"GitLab listed an issue without a readable updated_at ({str(raw)[:40]!r})",
        hint="nothing was changed; check for a proxy in front of GitLab",
        code="malformed_response",
    )


def before(items: list[Item], limit: datetime) -> list[Item]:
    """The items updated before `limit`; a page is sorted by `updated_at`, so only its
    tail needs reading."""
    end = len(items)
    while end and updated(items[end - 1]) >= limit:
        end -= 1
    return items if end == len(items) else items[:end]


def floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def total_of(response: httpx.Response) -> int | None:
    raw = response.headers.get("X-Total", "")
    return int(raw) if raw.isdigit() else None


@dataclass(eq=False)
class Segment:
    """Issues updated in `[lo, hi]`; those at or after `hi` belong to the next part."""

    lo: datetime
    hi: datetime
    estimate: int | None
    totals: set[int | None] = field(default_factory=set)
    fetched: int = 0
    first: Future[httpx.Response] | None = None
    yielded: set[object] = field(default_factory=set)  # issue ids as GitLab sent them

    def total(self) -> int | None:
        """X-Total of the first page once it is in, without waiting."""
        if self.first is None or not self.first.done() or self.first.exception():
            return None
        response = self.first.result()
        return total_of(response) if response.status_code == 200 else None

    def next_page(self) -> int | None:
        """The next page to ask for; None to wait for the size (first page not in yet)
        or, once it is in, when the segment's pages are all asked for."""
        total = self.total()
        if total is not None:
            wanted = max(1, math.ceil(total / PER_PAGE))
        elif self.first is not None and self.first.done():
            wanted = 1  # no X-Total: _settle walks the segment
        else:
            wanted = 1 if self.estimate is None else max(1, math.ceil(self.estimate / PER_PAGE))
        if self.fetched < wanted:
            return self.fetched + 1
        return None

    def waiting(self) -> bool:
        return self.first is None or not self.first.done()

    def exact(self, after: int | None) -> bool:
        """Every page saw the same result set: one X-Total, confirmed by a later count."""
        if len(self.totals) != 1:
            return False
        (total,) = self.totals
        return total is not None and total == after and self.fetched * PER_PAGE >= total


class IssueListing:
    """One listing: `get` sends a GET with the given params (per_page/page/bounds added
    here) to the issues endpoint, from any thread; `decode` checks a page's JSON."""

    def __init__(self, get: Get, decode: Decode, params: Mapping[str, Any]) -> None:
        self._get = get
        self._decode = decode
        self._params = dict(params)
        self._pool: ThreadPoolExecutor | None = None

    # -- requests ----------------------------------------------------------------------

    def _query(
        self,
        lo: datetime | None,
        hi: datetime | None,
        *,
        page: int = 1,
        per_page: int = PER_PAGE,
        sort: str = "asc",
    ) -> httpx.Response:
        params = {**self._params, "sort": sort, "per_page": per_page, "page": page}
        if lo is not None:
            params["updated_after"] = format_since(lo)
        if hi is not None:
            params["updated_before"] = format_since(hi)
        return self._get(params)

    def _submit(
        self, fn: Callable[..., httpx.Response], *args: Any, **kw: Any
    ) -> Future[httpx.Response]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="gitlab-page")
        return self._pool.submit(fn, *args, **kw)

    # -- the listing -------------------------------------------------------------------

    def __iter__(self) -> Iterator[Item]:
        try:
            yield from self._listing()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def _listing(self) -> Iterator[Item]:
        first = self._query(None, None)
        items = self._decode(first)
        if not has_next(first):
            yield from items
            return
        lo = floor_second(updated(items[-1]))
        yield from before(items, lo)
        newest = self._query(lo, None, per_page=1, sort="desc")
        found = self._decode(newest)
        end = floor_second(updated(found[0])) - SETTLE if found else lo
        if end > lo:
            yield from self._segments(self._plan(lo, end, total_of(newest)))
            lo = end
        yield from self._walk(lo, None, set())

    def _plan(self, lo: datetime, end: datetime, count: int | None) -> Iterator[Segment]:
        """Closed segments from `lo` to `end`, found by offset probes when uncounted."""
        if count is not None:
            yield Segment(lo, end, count)
            return
        base = lo
        while True:
            offsets = [SEGMENT * i for i in range(1, PROBES + 1)]
            probes = [
                self._submit(self._query, base, end, page=offset + 1, per_page=1)
                for offset in offsets
            ]
            start, at = base, 0
            for offset, probe in zip(offsets, probes, strict=True):
                response = probe.result()
                found = self._decode(response) if response.status_code == 200 else []
                if not found:
                    yield Segment(start, end, None)
                    return
                cut = floor_second(updated(found[0]))
                if cut >= end:
                    yield Segment(start, end, None)
                    return
                if cut > start:
                    yield Segment(start, cut, offset - at)
                    start, at = cut, offset
            if start == base:  # more than PROBES * SEGMENT issues within one second
                yield Segment(start, end, None)
                return
            base = start

    def _page(self, segment: Segment, page: int) -> httpx.Response:
        return self._query(segment.lo, segment.hi, page=page)

    def _segments(self, segments: Iterator[Segment]) -> Iterator[Item]:
        """Pages of consecutive segments, a bounded window ahead, yielded in order."""
        queue: deque[tuple[Segment, Future[httpx.Response]]] = deque()
        planned: deque[Segment] = deque()

        def fill() -> None:
            while len(queue) < AHEAD:
                if not planned:
                    following = next(segments, None)
                    if following is None:
                        return
                    planned.append(following)
                segment = planned[0]
                page = segment.next_page()
                if page is None:
                    if segment.waiting():
                        return  # its first page tells how many more to ask for
                    planned.popleft()
                    continue
                future = self._submit(self._page, segment, page)
                segment.fetched = page
                if page == 1:
                    segment.first = future
                queue.append((segment, future))

        current: Segment | None = None
        try:
            fill()
            while queue:
                segment, future = queue.popleft()
                if segment is not current:
                    if current is not None:
                        yield from self._settle(current)
                    current = segment
                response = future.result()
                fill()
                yield from self._take(segment, response)
            if current is not None:
                yield from self._settle(current)
        finally:
            for _segment, future in queue:
                future.cancel()

    def _take(self, segment: Segment, response: httpx.Response) -> Iterator[Item]:
        if response.status_code != 200:  # 405: an offset cap below this page
            segment.totals.add(None)
            return
        segment.totals.add(total_of(response))
        yielded = segment.yielded
        for item in before(self._decode(response), segment.hi):
            if item.get("id") not in yielded:
                yielded.add(item.get("id"))
                yield item

    def _settle(self, segment: Segment) -> Iterator[Item]:
        """Count again after the last page; walk the segment if its set moved."""
        after = self._query(segment.lo, segment.hi, per_page=1)
        if not segment.exact(total_of(after) if after.status_code == 200 else None):
            yield from self._walk(segment.lo, segment.hi, segment.yielded)
        segment.yielded.clear()

    def _walk(self, lo: datetime | None, hi: datetime | None, skip: set[object]) -> Iterator[Item]:
        """Exact under any change: first pages only, each from the second where the last
        one ended. Issues in `skip` were yielded already."""
        while hi is None or lo is None or lo < hi:
            response = self._query(lo, hi)
            items = self._decode(response)
            if not has_next(response):
                kept = items if hi is None else before(items, hi)
                yield from (item for item in kept if item.get("id") not in skip)
                return
            cut = floor_second(updated(items[-1]))
            if lo is not None and cut <= lo:
                yield from self._second(lo, skip)
                lo += SECOND
                continue
            yield from (item for item in before(items, cut) if item.get("id") not in skip)
            lo = cut

    def _second(self, lo: datetime, skip: set[object]) -> Iterator[Item]:
        """More than a page of issues updated within one second: its offset pages."""
        page = 1
        while True:
            response = self._query(lo, lo + SECOND, page=page)
            for item in before(self._decode(response), lo + SECOND):
                if item.get("id") not in skip:
                    yield item
            if not has_next(response):
                return
            page += 1


def has_next(response: httpx.Response) -> bool:
    """More pages: `rel="next"`, or `X-Next-Page` when a proxy dropped the Link header."""
    return 'rel="next"' in response.headers.get("Link", "") or bool(
        response.headers.get("X-Next-Page", "").strip()
    )
