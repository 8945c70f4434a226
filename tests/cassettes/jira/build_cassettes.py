"""Build the Jira vcrpy cassettes from Atlassian's published examples and real captures.

    python tests/cassettes/jira/build_cassettes.py [SHARED_DIR]

Each cassette replays responses exactly as shared/samples/jira holds them (see SOURCES.md
there) for the requests the adapter makes; the Authorization header is scrubbed. A test
rebuilds them in memory and fails when the committed files drift from the samples.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CLOUD = "https://your-domain.atlassian.net"
SERVER = "https://jira.example.com"
SCRUBBED = "<scrubbed>"
FIELDS = "summary,description,status,priority,labels,updated,created,comment"
REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    410: "Gone",
}


def _interaction(
    method: str, uri: str, status: int, body: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "request": {
            "body": None,
            "headers": {"Authorization": [SCRUBBED], "Accept": ["application/json"]},
            "method": method,
            "uri": uri,
        },
        "response": {
            "body": {"string": body},
            "headers": {"Content-Type": ["application/json;charset=UTF-8"]}
            | {k: [v] for k, v in (headers or {}).items()},
            "status": {"code": status, "message": REASONS[status]},
        },
    }


def build(shared: Path) -> dict[str, str]:
    """Cassette file name -> YAML text."""
    samples = shared / "samples" / "jira"

    def sample(name: str) -> str:
        return (samples / name).read_text(encoding="utf-8")

    api = f"{CLOUD}/rest/api/3"
    issue_query = f"fields={FIELDS}&properties=testkase"
    cassettes = {
        "cloud_whoami.yaml": [
            _interaction(
                "GET", f"{api}/myself", 200, sample("cloud-v3-myself.official-example.json")
            ),
        ],
        "cloud_issue.yaml": [
            _interaction(
                "GET",
                f"{api}/issue/10002?{issue_query}",
                200,
                sample("cloud-v3-issue-get.official-example.json"),
            ),
            _interaction(
                "GET",
                f"{api}/issue/6001?{issue_query}",
                200,
                sample("cloud-v3-issue-subtask-get.real-trimmed.json"),
            ),
            _interaction(
                "GET",
                f"{api}/issue/10002/comment?startAt=0&maxResults=100&orderBy=created",
                200,
                sample("cloud-v3-comments-get.official-example.json"),
            ),
            _interaction(
                "POST",
                f"{api}/issue/10002/comment",
                201,
                sample("cloud-v3-comment-post-201.official-example.json"),
            ),
        ],
        "cloud_listing.yaml": [
            _interaction(
                "POST",
                f"{api}/search/jql",
                200,
                sample("cloud-v3-search-jql.official-example.json"),
            ),
        ],
        "cloud_projects.yaml": [
            _interaction(
                "GET",
                f"{api}/project/search?startAt=0&maxResults=100",
                200,
                sample("cloud-v3-project-search.official-example.json"),
            ),
        ],
        "cloud_create.yaml": [
            _interaction(
                "GET",
                f"{api}/issue/createmeta/EX/issuetypes?startAt=0&maxResults=200",
                200,
                sample("cloud-v3-createmeta-issuetypes.official-example.json"),
            ),
            _interaction(
                "GET",
                f"{api}/issue/createmeta/EX/issuetypes/1?startAt=0&maxResults=200",
                200,
                sample("cloud-v3-createmeta-fields.official-example.json"),
            ),
            _interaction(
                "GET",
                f"{api}/priority/search?startAt=0&maxResults=100",
                200,
                sample("cloud-v3-priority-search.official-example.json"),
            ),
        ],
        "cloud_errors.yaml": [
            _interaction(
                "GET",
                f"{api}/search?jql=project+%3D+EX",
                410,
                sample("error-cloud-410-search-removed.real.json"),
            ),
            _interaction(
                "POST", f"{api}/search/jql", 400, sample("error-cloud-400-unbounded-jql.real.json")
            ),
            _interaction(
                "GET",
                f"{api}/myself",
                401,
                sample("error-cloud-401-json-accept.real.json"),
                {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
            ),
        ],
        "server_createmeta.yaml": [
            _interaction(
                "GET",
                f"{SERVER}/rest/api/2/issue/createmeta/DEMO/issuetypes?startAt=0&maxResults=200",
                200,
                sample("server-v9-createmeta-issuetypes.json"),
            ),
            _interaction(
                "GET",
                f"{SERVER}/rest/api/2/issue/createmeta?projectKeys=DEMO",
                404,
                sample("error-server9-404-old-createmeta.real.json"),
            ),
        ],
    }
    return {
        name: yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=True)
        for name, interactions in cassettes.items()
    }


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else HERE.parents[3] / "shared"
    for name, text in build(shared).items():
        (HERE / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv)
