"""The straightforward baseline the benchmark compares `testkase sync` with.

One page after another (100 issues per request, fields included), then one upsert per
issue, each in its own transaction. It reuses the adapters' JSON mappers and the store, so
the difference measured is the strategy (parallel listing, batched upserts), not the code.
Prints {"requests": N, "issues": M} on stdout.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import httpx

from testkase_cli.domain import mapping
from testkase_cli.domain.models import RemoteIssue
from testkase_cli.domain.settings import DEFAULT_REQUIREMENT_STATUS
from testkase_cli.store.repository import Store
from testkase_cli.store.syncrepo import RequirementUpsert

TOKEN = "sandbox-token"
FIELDS = "summary,description,status,priority,labels,updated,created,comment"


class Pager:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.requests = 0

    def get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        self.requests += 1
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response


def jira_cloud(pager: Pager, site: str) -> Iterator[RemoteIssue]:
    from testkase_cli.trackers.jira.mapper import AdfCodec, issue_from_json

    token: str | None = None
    while True:
        params = {"jql": "project = PROJ ORDER BY updated ASC", "fields": FIELDS, "maxResults": 100}
        if token:
            params["nextPageToken"] = token
        page = pager.get("/rest/api/3/search/jql", params).json()
        for data in page["issues"]:
            yield issue_from_json(data, codec=AdfCodec(), site=site)
        token = page.get("nextPageToken")
        if page.get("isLast", True) or not token:
            return


def jira_server(pager: Pager, site: str) -> Iterator[RemoteIssue]:
    from testkase_cli.trackers.jira.mapper import WikiCodec, issue_from_json

    # Pages after the last id read (Data Center refuses offsets past 10,000).
    after = ""
    while True:
        jql = f"project = PROJ{after} ORDER BY id ASC"
        params = {"jql": jql, "fields": FIELDS, "maxResults": 100, "startAt": 0}
        page = pager.get("/rest/api/2/search", params).json()
        for data in page["issues"]:
            yield issue_from_json(data, codec=WikiCodec(), site=site)
        if not page["issues"] or len(page["issues"]) >= page["total"]:
            return
        after = f" AND id > {page['issues'][-1]['id']}"


def gitlab(pager: Pager, site: str) -> Iterator[RemoteIssue]:
    from testkase_cli.trackers.gitlab.mapper import to_issue

    page: str | None = "1"
    while page:
        params = {
            "per_page": 100,
            "page": page,
            "order_by": "updated_at",
            "sort": "asc",
            "state": "all",
        }
        response = pager.get("/api/v4/projects/demo%2Fweb/issues", params)
        for data in response.json():
            yield to_issue(data)
        page = response.headers.get("X-Next-Page") or None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flavor", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    platform = args.flavor.split("-")[0]
    if args.flavor == "jira-cloud":
        pager = Pager(
            httpx.Client(base_url=args.url, auth=("tester@example.com", TOKEN), timeout=60)
        )
        issues = jira_cloud(pager, args.url)
    elif args.flavor == "jira-server":
        pager = Pager(
            httpx.Client(
                base_url=args.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}
            )
        )
        issues = jira_server(pager, args.url)
    else:
        pager = Pager(httpx.Client(base_url=args.url, timeout=60, headers={"PRIVATE-TOKEN": TOKEN}))
        issues = gitlab(pager, args.url)
    store = Store.open(args.db, "baseline")
    count = 0
    for issue in issues:
        upsert = RequirementUpsert(
            issue=issue,
            platform=platform,
            priority=mapping.requirement_priority(platform, issue.priority).value,
            status=mapping.requirement_status(platform, issue, DEFAULT_REQUIREMENT_STATUS).value,
        )
        store.sync.upsert_requirements([upsert])
        count += 1
    print(json.dumps({"requests": pager.requests, "issues": count}))


if __name__ == "__main__":
    main()
