"""The emulator answers reads as GitLab does: auth, projects, issue filters, paging."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from gitlab_raw import Raw

from testkase_cli.sandbox.gitlab import EXPIRED_TOKEN, READONLY_TOKEN, REVOKED_TOKEN

SHARED_ERRORS = {
    "insufficient_scope_403": {
        "error": "insufficient_scope",
        "error_description": "The request requires higher privileges than provided by the "
        "access token.",
        "scope": "api",
    },
    "expired_token_401": {
        "error": "invalid_token",
        "error_description": "Token is expired. You can either do re-authorization or token "
        "refresh.",
    },
    "revoked_token_401": {
        "error": "invalid_token",
        "error_description": "Token was revoked. You have to re-authorize from the user.",
    },
}


def iids(reply_json: list[dict[str, int]]) -> list[int]:
    return sorted(issue["iid"] for issue in reply_json)


def test_tokens_by_header_bearer_and_their_failures(gitlab: Raw) -> None:
    assert gitlab.get("/api/v4/user").json["username"] == "sandbox.tester"
    bearer = gitlab.get(
        "/api/v4/user", token=None, headers={"Authorization": "Bearer sandbox-token"}
    )
    assert bearer.status == 200
    assert gitlab.get("/api/v4/user", token="nope").json == {"message": "401 Unauthorized"}
    assert gitlab.get("/api/v4/version", token=None).status == 401
    expired = gitlab.get("/api/v4/user", token=EXPIRED_TOKEN)
    assert (expired.status, expired.json) == (401, SHARED_ERRORS["expired_token_401"])
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    revoked = gitlab.get("/api/v4/projects/1", token=REVOKED_TOKEN)  # even on a project
    assert (revoked.status, revoked.json) == (401, SHARED_ERRORS["revoked_token_401"])
    assert gitlab.get("/api/v4/projects/1/issues", token=READONLY_TOKEN).status == 200
    write = gitlab("POST", "/api/v4/projects/1/issues", {"title": "x"}, token=READONLY_TOKEN)
    assert (write.status, write.json) == (403, SHARED_ERRORS["insufficient_scope_403"])
    assert "WWW-Authenticate" not in write.headers


def test_errors_match_the_shared_samples(gitlab: Raw, shared_dir: object) -> None:
    from pathlib import Path

    samples = json.loads((Path(str(shared_dir)) / "samples/gitlab/error_bodies.json").read_text())
    for key, body in SHARED_ERRORS.items():
        assert samples[key] == body
    assert gitlab.get("/api/v4/user", token="x").json == samples["invalid_token_401"]
    assert gitlab.get("/api/v4/projects/9").json == samples["project_not_found_404"]
    assert gitlab.get("/api/v4/projects/1/issues/999").json == samples["record_not_found_404"]
    assert gitlab.get("/api/v4/projects/demo/web").json == samples["route_not_found_404"]
    assert gitlab.get("/api/v4/projects/1/issues?state=open").json == samples["invalid_enum_400"]
    note = gitlab("POST", "/api/v4/projects/1/issues/1/notes", {})
    assert note.json == samples["missing_param_400"]
    blank = gitlab("POST", "/api/v4/projects/1/issues/1/notes", {"body": " "})
    assert blank.json == samples["blank_note_400"]
    label = gitlab("POST", "/api/v4/projects/1/labels", {"name": "testable", "color": "#fff"})
    assert (label.status, label.json) == (409, samples["label_exists_409"])
    keyset = gitlab.get("/api/v4/projects/1/issues?pagination=keyset&order_by=priority")
    assert (keyset.status, keyset.json) == (405, samples["keyset_unsupported_405"])
    gitlab.control("POST", "faults", {"rate_limit_every": 1, "retry_after_s": 7})
    limited = gitlab.get("/api/v4/user")
    assert (limited.status, limited.raw.decode()) == (
        429,
        samples["rack_attack_429_plain_text_body"],
    )
    assert limited.headers["Retry-After"] == "7"
    for header in (
        "RateLimit-Name",
        "RateLimit-Limit",
        "RateLimit-Observed",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "RateLimit-ResetTime",
    ):
        assert limited.headers[header]


def test_projects_by_id_path_and_membership(gitlab: Raw) -> None:
    assert gitlab.get("/api/v4/projects/1").json["path_with_namespace"] == "demo/web"
    assert gitlab.get("/api/v4/projects/DEMO%2Fweb").json["id"] == 1
    not_found = {"message": "404 Project Not Found"}
    for ref in ("web", "demo%252Fweb", "demo%2Fnope", "999"):
        reply = gitlab.get(f"/api/v4/projects/{ref}")
        assert (reply.status, reply.json) == (404, not_found)
    everything = [p["path_with_namespace"] for p in gitlab.get("/api/v4/projects").json]
    assert "community/handbook" in everything  # public, not a member
    member = gitlab.get("/api/v4/projects?membership=true&simple=true").json
    assert "community/handbook" not in [p["path_with_namespace"] for p in member]
    assert "permissions" not in member[0]  # simple=true trims
    owner = gitlab.get("/api/v4/projects/1").json["permissions"]["project_access"]
    assert owner["access_level"] == 50
    anonymous = gitlab.get("/api/v4/projects/1", token=None)
    assert anonymous.json == not_found  # private projects are invisible without a token
    assert gitlab.get("/api/v4/projects/4", token=None).status == 200


def test_issue_filters(gitlab: Raw) -> None:
    base = "/api/v4/projects/1/issues?per_page=100&order_by=created_at&sort=asc"
    assert len(gitlab.get(base).json) == 14  # tasks and incidents included
    assert len(gitlab.get(base + "&issue_type=issue").json) == 12
    assert iids(gitlab.get(base + "&labels=testable,priority::critical").json) == [2, 6]
    assert gitlab.get(base + "&labels=Testable").json == []  # case-sensitive
    assert gitlab.get(base + "&labels=unknown").json == []
    unlabelled = gitlab.get(base + "&labels=None&issue_type=issue").json
    assert iids(unlabelled) == [5, 7]
    negated = gitlab.get(base + "&labels=testable&not[labels]=priority::high").json
    assert iids(negated) == [2, 6, 8]
    assert iids(gitlab.get(base + "&iids[]=3&iids[]=1").json) == [1, 3]
    assert iids(gitlab.get(base + "&state=closed&issue_type=issue").json) == [4, 9, 11]
    found = gitlab.get(base + "&search=VAT%20shipping&in=title").json
    assert iids(found) == [2]
    assert gitlab.get(base + "&search=tax.md&in=title").json == []
    assert iids(gitlab.get(base + "&search=tax.md&in=description").json) == [2]
    assert len(gitlab.get(base + "&labelz=testable").json) == 14  # unknown params ignored


def test_updated_after_and_before_are_inclusive(gitlab: Raw) -> None:
    issue = gitlab.get("/api/v4/projects/1/issues/3").json
    stamp = issue["updated_at"]
    for query in (f"updated_after={stamp}", f"updated_before={stamp}"):
        listed = gitlab.get(f"/api/v4/projects/1/issues?{query.replace('+', '%2B')}").json
        assert 3 in iids(listed)
    after = gitlab.get(f"/api/v4/projects/1/issues?updated_after={stamp}&per_page=100").json
    assert all(i["updated_at"] >= stamp for i in after)
    bad = gitlab.get("/api/v4/projects/1/issues?updated_after=yesterday")
    assert (bad.status, bad.json) == (400, {"error": "updated_after is invalid"})


def test_offset_page_headers_and_links(gitlab: Raw) -> None:
    first = gitlab.get("/api/v4/projects/demo%2Fweb/issues?per_page=5&labels=testable")
    headers = first.headers
    assert (
        headers["X-Page"],
        headers["X-Per-Page"],
        headers["X-Total"],
        headers["X-Total-Pages"],
    ) == (
        "1",
        "5",
        "5",
        "1",
    )
    assert headers["X-Next-Page"] == "" and headers["X-Prev-Page"] == ""
    middle = gitlab.get("/api/v4/projects/demo%2Fweb/issues?per_page=5&page=2")
    assert (middle.headers["X-Prev-Page"], middle.headers["X-Next-Page"]) == ("1", "3")
    assert list(middle.links()) == ["prev", "next", "first", "last"]
    next_url = middle.links()["next"]
    assert next_url.startswith(gitlab.base_url + "/api/v4/projects/demo%2Fweb/issues?")
    query = urlsplit(next_url).query
    assert query.startswith("id=demo%2Fweb&order_by=created_at&page=3&per_page=5&sort=desc")
    assert query.endswith("state=all&with_labels_details=false")
    assert (
        gitlab.get(next_url).json == gitlab.get("/api/v4/projects/1/issues?per_page=5&page=3").json
    )
    clamped = gitlab.get("/api/v4/projects/1/issues?per_page=500")
    assert clamped.headers["X-Per-Page"] == "100"
    beyond = gitlab.get("/api/v4/projects/1/issues?page=9")
    assert (beyond.json, beyond.headers["X-Prev-Page"]) == ([], "")
    empty = gitlab.get("/api/v4/projects/1/issues?labels=nothing")
    assert (empty.headers["X-Total"], empty.headers["X-Total-Pages"]) == ("0", "1")


def test_above_10000_results_totals_go_and_offsets_stop_at_50000(gitlab: Raw) -> None:
    gitlab.control("POST", "seed", {"count": 10_100, "seed": 2})
    page = gitlab.get("/api/v4/projects/1/issues?per_page=100")
    assert "X-Total" not in page.headers and "X-Total-Pages" not in page.headers
    assert "last" not in page.links() and page.headers["X-Next-Page"] == "2"
    capped = gitlab.get("/api/v4/projects/1/issues?per_page=100&page=501")
    assert capped.status == 405
    assert capped.json == {
        "error": "Offset pagination has a maximum allowed offset of 50000 for requests that "
        "return objects of type Issue. Remaining records can be retrieved using keyset "
        "pagination."
    }
    assert gitlab.get("/api/v4/projects/1/issues?per_page=100&page=500").status == 200
    gitlab.control("POST", "config", {"keyset": False})  # before 18.3: no cap, no keyset
    assert gitlab.get("/api/v4/projects/1/issues?per_page=100&page=501").status == 200


def test_keyset_pages_carry_only_a_cursor_link(gitlab: Raw) -> None:
    url = "/api/v4/projects/1/issues?pagination=keyset&order_by=updated_at&sort=asc&per_page=4"
    seen: list[int] = []
    reply = gitlab.get(url)
    while True:
        assert not [h for h in reply.headers if h.lower().startswith("x-")]
        seen.extend(issue["id"] for issue in reply.json)
        links = reply.links()
        if "next" not in links:
            break
        assert list(links) == ["next"]
        cursor = parse_qs(urlsplit(links["next"]).query)["cursor"][0]
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=="))
        assert set(decoded) == {"updated_at", "id", "_kd"}
        reply = gitlab.get(links["next"])
    assert len(seen) == len(set(seen)) == 14
    assert gitlab.get("/api/v4/version").json["version"] == "18.5.1"
    gitlab.control("POST", "config", {"keyset": False})
    assert gitlab.get("/api/v4/version").json["version"] == "18.2.4"
    ignored = gitlab.get(url)
    assert ignored.headers["X-Page"] == "1"  # pagination=keyset silently ignored


@pytest.mark.parametrize(
    ("offset", "suffix"), [("Z", "Z"), ("+02:00", "+02:00"), ("-05:30", "-05:30")]
)
def test_timestamps_have_milliseconds_in_the_instance_zone(
    gitlab: Raw, offset: str, suffix: str
) -> None:
    gitlab.control("POST", "config", {"utc_offset": offset})
    gitlab.control("POST", "clock", {"set": "2030-01-01T00:00:00Z"})
    created = gitlab("POST", "/api/v4/projects/1/issues", {"title": "Zoned"}).json
    assert created["created_at"].endswith(suffix)
    assert len(created["created_at"].split(".")[1]) == 3 + len(suffix)
    expected_hour = {"Z": "2030-01-01T00:", "+02:00": "2030-01-01T02:", "-05:30": "2029-12-31T18:"}
    assert created["created_at"].startswith(expected_hour[offset])


def test_token_self_reports_the_configured_expiry(gitlab: Raw) -> None:
    default = gitlab.get("/api/v4/personal_access_tokens/self").json["expires_at"]
    assert len(default) == 10 and default[4] == "-"  # a date, 60 days ahead by default
    gitlab.control("POST", "config", {"token_expires_at": "2027-03-01"})
    token = gitlab.get("/api/v4/personal_access_tokens/self").json
    assert (token["expires_at"], token["scopes"], token["active"]) == ("2027-03-01", ["api"], True)
    assert gitlab.get("/api/v4/personal_access_tokens/self", token=READONLY_TOKEN).json[
        "scopes"
    ] == ["read_api"]
    assert gitlab.get("/api/v4/issues/5001").status == 403  # admin only
