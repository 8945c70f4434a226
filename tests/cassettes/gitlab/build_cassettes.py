"""Build the GitLab vcrpy cassettes from GitLab's published samples.

    python tests/cassettes/gitlab/build_cassettes.py [SHARED_DIR]

Each cassette replays responses exactly as GitLab documented them (shared/samples/gitlab,
see SOURCES.md there) for the requests the adapter makes; the PRIVATE-TOKEN header is
scrubbed. A test rebuilds them in memory and fails when the committed files drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
INSTANCE = "https://gitlab.example.com"
SCRUBBED = "<scrubbed>"


def _interaction(
    method: str, path: str, status: int, body: Any, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "request": {
            "body": None,
            "headers": {"PRIVATE-TOKEN": [SCRUBBED], "Accept": ["application/json"]},
            "method": method,
            "uri": f"{INSTANCE}/api/v4{path}",
        },
        "response": {
            "body": {"string": text},
            "headers": {"Content-Type": ["application/json"]}
            | {k: [v] for k, v in (headers or {}).items()},
            "status": {"code": status, "message": {200: "OK", 201: "Created"}[status]},
        },
    }


def _single_page(path: str) -> dict[str, str]:
    link = f"{INSTANCE}/api/v4{path}?page=1&per_page=100"
    return {
        "X-Page": "1",
        "X-Per-Page": "100",
        "X-Next-Page": "",
        "X-Prev-Page": "",
        "X-Total": "1",
        "X-Total-Pages": "1",
        "Link": f'<{link}>; rel="first", <{link}>; rel="last"',
    }


def build(shared: Path) -> dict[str, str]:
    """Cassette file name -> YAML text."""
    samples = shared / "samples" / "gitlab"

    def sample(name: str) -> Any:
        return json.loads((samples / name).read_text(encoding="utf-8"))

    listing = "/projects/my-group%2Fmy-project/issues"
    notes = "/projects/4/issues/1/notes"
    cassettes = {
        "whoami.yaml": [
            _interaction("GET", "/user", 200, sample("user.json")),
            _interaction(
                "GET", "/personal_access_tokens/self", 200, sample("personal_access_token.json")
            ),
        ],
        "issue.yaml": [
            _interaction("GET", "/projects/4/issues/1", 200, sample("issue.json")),
            _interaction("GET", notes, 200, sample("notes_list.json"), _single_page(notes)),
        ],
        "listing.yaml": [
            _interaction("GET", listing, 200, sample("issues_list.json"), _single_page(listing)),
        ],
        "defect.yaml": [
            _interaction(
                "POST", "/projects/my-group%2Fmy-project/labels", 201, sample("label_created.json")
            ),
            _interaction(
                "POST", "/projects/my-group%2Fmy-project/issues", 201, sample("issue_created.json")
            ),
            _interaction(
                "PUT", "/projects/4/issues/14", 200, sample("issue_closed_via_state_event.json")
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
