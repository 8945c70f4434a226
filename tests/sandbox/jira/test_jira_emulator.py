"""The Jira emulator over HTTP: what a client of the real API would notice."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkase_cli.sandbox.core import App
from testkase_cli.sandbox.jira import create_app

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
BASIC = "Basic " + base64.b64encode(b"tester@example.com:sandbox-token").decode()
AUTH = {"cloud": BASIC, "server": "Bearer sandbox-token"}
API = {"cloud": "/rest/api/3", "server": "/rest/api/2"}


class Site:
    def __init__(self, url: str, flavor: str) -> None:
        self.flavor = flavor
        self.api = API[flavor]
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": AUTH[flavor], "Accept": "application/json"}
        )
        self.anonymous = httpx.Client(base_url=url, headers={"Accept": "application/json"})

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.anonymous.request(method, f"/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def close(self) -> None:
        self.http.close()
        self.anonymous.close()


@pytest.fixture(params=["cloud", "server"])
def site(request: pytest.FixtureRequest, serve: Callable[[App], str]) -> Iterator[Site]:
    flavor = str(request.param)
    client = Site(serve(create_app(flavor=flavor, seed=3)), flavor)
    yield client
    client.close()


@pytest.fixture
def cloud(serve: Callable[[App], str]) -> Iterator[Site]:
    client = Site(serve(create_app(flavor="cloud", seed=3)), "cloud")
    yield client
    client.close()


@pytest.fixture
def server(serve: Callable[[App], str]) -> Iterator[Site]:
    client = Site(serve(create_app(flavor="server", seed=3)), "server")
    yield client
    client.close()


def sample(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "samples" / "jira" / name).read_text())


# -- instance and authentication ------------------------------------------------------


def test_server_info_is_anonymous_and_names_the_deployment(site: Site) -> None:
    info = site.anonymous.get("/rest/api/2/serverInfo").json()
    assert info["deploymentType"] == ("Cloud" if site.flavor == "cloud" else "Server")
    assert TIMESTAMP.match(info["serverTime"])
    assert info["serverTime"][-5:] in ("+0100", "+0200")  # Europe/Berlin by default


def test_timestamps_follow_the_users_zone(site: Site) -> None:
    site.control("POST", "config", {"time_zone": "Pacific/Kiritimati"})
    issue = site.http.get(f"{site.api}/issue/PROJ-1").json()
    assert TIMESTAMP.match(issue["fields"]["updated"])
    assert issue["fields"]["updated"].endswith("+1400")
    assert site.http.get(f"{site.api}/myself").json()["timeZone"] == "Pacific/Kiritimati"


def test_cloud_401_is_not_the_standard_error_shape(cloud: Site, shared_dir: Path) -> None:
    wrong = "Basic " + base64.b64encode(b"tester@example.com:wrong").decode()
    as_json = cloud.anonymous.get("/rest/api/3/myself", headers={"Authorization": wrong})
    assert as_json.status_code == 401
    assert as_json.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert as_json.json() == sample(shared_dir, "error-cloud-401-json-accept.real.json")
    as_text = cloud.anonymous.get(
        "/rest/api/3/myself", headers={"Authorization": wrong, "Accept": "*/*"}
    )
    assert as_text.headers["content-type"].startswith("text/plain")
    assert as_text.text == "Client must be authenticated to access this resource."
    bearer = cloud.anonymous.get("/rest/api/3/myself", headers={"Authorization": "Bearer x"})
    assert bearer.status_code == 401
    # A wrong token is refused even where anonymous access is allowed.
    info = cloud.anonymous.get("/rest/api/2/serverInfo", headers={"Authorization": wrong})
    assert info.status_code == 401


def test_anonymous_callers_see_nothing(cloud: Site) -> None:
    assert cloud.anonymous.get("/rest/api/3/myself").status_code == 401
    assert cloud.anonymous.get("/rest/api/3/issue/PROJ-1").status_code == 404
    found = cloud.anonymous.post("/rest/api/3/search/jql", json={"jql": "project = PROJ"})
    assert found.json() == {"issues": [], "isLast": True}


def test_server_takes_a_pat_and_has_no_v3(server: Site) -> None:
    assert server.http.get("/rest/api/3/myself").status_code == 404
    me = server.http.get("/rest/api/2/myself").json()
    assert me["name"] == "tester" and me["key"].startswith("JIRAUSER")
    bad = server.anonymous.get("/rest/api/2/myself", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"


# -- search ---------------------------------------------------------------------------


def test_removed_search_answers_410_with_the_migration_note(cloud: Site, shared_dir: Path) -> None:
    body = sample(shared_dir, "error-cloud-410-search-removed.real.json")
    for version in ("2", "3"):
        response = cloud.http.get(f"/rest/api/{version}/search", params={"jql": "project = PROJ"})
        assert response.status_code == 410 and response.json() == body
    assert cloud.http.post("/rest/api/3/search", json={"jql": "x"}).json() == body


def test_unbounded_jql_is_refused(cloud: Site, shared_dir: Path) -> None:
    body = sample(shared_dir, "error-cloud-400-unbounded-jql.real.json")
    for jql in ("", "ORDER BY updated DESC"):
        response = cloud.http.post("/rest/api/3/search/jql", json={"jql": jql})
        assert response.status_code == 400 and response.json() == body
    count = cloud.http.post("/rest/api/3/search/approximate-count", json={"jql": ""})
    assert count.json() == body


def test_enhanced_search_pages_with_tokens_and_caps(cloud: Site) -> None:
    cloud.control("POST", "seed", {"count": 6000, "seed": 2})
    url = "/rest/api/3/search/jql"
    first = cloud.http.post(url, json={"jql": "project = PROJ", "maxResults": 9000}).json()
    assert set(first) == {"issues", "isLast", "nextPageToken"}  # no total, no startAt
    assert len(first["issues"]) == 5000 and first["issues"][0] == {"id": first["issues"][0]["id"]}
    fields = {"jql": "project = PROJ ORDER BY id", "fields": ["summary"], "maxResults": 1000}
    page = cloud.http.post(url, json=fields).json()
    assert len(page["issues"]) == 100  # fields requested: 100 a page at most
    seen: list[str] = []
    token = None
    while True:
        body = {"jql": "project = PROJ", "maxResults": 5000, "nextPageToken": token}
        data = cloud.http.post(url, json={k: v for k, v in body.items() if v}).json()
        seen.extend(issue["id"] for issue in data["issues"])
        token = data.get("nextPageToken")
        if data["isLast"]:
            assert token is None
            break
    assert len(seen) == len(set(seen)) == 6012
    other = cloud.http.post(
        url, json={"jql": "project = OTHER", "nextPageToken": first["nextPageToken"]}
    )
    assert other.status_code == 400
    get = cloud.http.get(url, params={"jql": "project = OTHER", "fields": "summary,status"})
    assert {i["key"] for i in get.json()["issues"]} == {"OTHER-1", "OTHER-2"}


def test_cloud_search_is_eventually_consistent(cloud: Site) -> None:
    cloud.control("POST", "config", {"search_lag_s": 60})
    created = cloud.control("POST", "issues", {"title": "Fresh requirement"})
    jql = 'project = PROJ AND summary ~ "fresh"'
    url = "/rest/api/3/search/jql"
    assert cloud.http.post(url, json={"jql": jql}).json()["issues"] == []
    reconciled = cloud.http.post(url, json={"jql": jql, "reconcileIssues": [int(created["id"])]})
    assert [i["id"] for i in reconciled.json()["issues"]] == [created["id"]]
    assert cloud.http.get(f"/rest/api/3/issue/{created['key']}").status_code == 200
    fetched = cloud.http.post(
        "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": [created["id"]]}
    )
    assert [i["id"] for i in fetched.json()["issues"]] == [created["id"]]
    cloud.control("POST", "clock", {"advance_s": 61})
    assert len(cloud.http.post(url, json={"jql": jql}).json()["issues"]) == 1


def test_bulkfetch_limits_and_order(cloud: Site) -> None:
    url = "/rest/api/3/issue/bulkfetch"
    too_many = cloud.http.post(url, json={"issueIdsOrKeys": [str(i) for i in range(101)]})
    assert too_many.status_code == 400
    data = cloud.http.post(
        url, json={"issueIdsOrKeys": ["PROJ-3", "NOPE-1", "PROJ-1"], "fields": ["summary"]}
    ).json()
    assert [i["key"] for i in data["issues"]] == ["PROJ-1", "PROJ-3"]  # ascending id
    assert data["issueErrors"] == []


def test_server_search_caps_max_results_silently_and_tells_total(server: Site) -> None:
    server.control("POST", "seed", {"count": 1500, "seed": 2})
    data = server.http.get(
        "/rest/api/2/search", params={"jql": "project = PROJ", "maxResults": 5000, "fields": "id"}
    ).json()
    assert data["maxResults"] == 1000 and len(data["issues"]) == 1000
    assert data["total"] == 1512 and data["startAt"] == 0
    rest = server.http.post(
        "/rest/api/2/search", json={"jql": "project = PROJ", "startAt": 1000, "maxResults": 1000}
    ).json()
    assert len(rest["issues"]) == 512


def test_jql_errors_are_400_with_jiras_message(site: Site, shared_dir: Path) -> None:
    path = f"{site.api}/search/jql" if site.flavor == "cloud" else f"{site.api}/search"
    response = site.http.get(path, params={"jql": "project = PROJ AND (labels = x"})
    assert response.status_code == 400
    assert response.json() == sample(shared_dir, "error-400-jql-syntax.real.json")
    missing = site.http.get(path, params={"jql": "project = NOPE"})
    assert missing.json()["errorMessages"] == [
        "The value 'NOPE' does not exist for the field 'project'."
    ]


# -- metadata ---------------------------------------------------------------------------


def test_createmeta_shapes_differ_between_cloud_and_server(site: Site) -> None:
    types = site.http.get(f"{site.api}/issue/createmeta/PROJ/issuetypes").json()
    listed = types["issueTypes"] if site.flavor == "cloud" else types["values"]
    assert ("isLast" in types) == (site.flavor == "server")
    bug = next(t for t in listed if t["name"] == "Bug")
    fields = site.http.get(f"{site.api}/issue/createmeta/PROJ/issuetypes/{bug['id']}").json()
    metas = fields["fields"] if site.flavor == "cloud" else fields["values"]
    priority = next(f for f in metas if f["fieldId"] == "priority")
    names = [v["name"] for v in priority["allowedValues"]]
    if site.flavor == "cloud":
        assert names == ["Highest", "High", "Medium", "Low", "Lowest"]
    else:
        assert names == ["Blocker", "Critical", "Major", "Minor"]


def test_createmeta_page_limit(cloud: Site, shared_dir: Path) -> None:
    response = cloud.http.get(
        "/rest/api/3/issue/createmeta/PROJ/issuetypes", params={"maxResults": 201}
    )
    assert response.status_code == 400
    assert response.json() == sample(
        shared_dir, "cloud-v3-createmeta-400-maxresults.official-example.json"
    )


def test_projects_list_and_search(site: Site) -> None:
    listed = site.http.get(f"{site.api}/project").json()
    assert [p["key"] for p in listed] == ["PROJ", "OTHER"]
    missing = site.http.get(f"{site.api}/project/NOPE")
    assert missing.status_code == 404
    if site.flavor == "cloud":
        page = site.http.get("/rest/api/3/project/search", params={"maxResults": 1}).json()
        assert page["total"] == 2 and not page["isLast"] and "startAt=1" in page["nextPage"]
    else:
        assert site.http.get("/rest/api/2/project/search").status_code == 404


# -- issues, workflow, comments, properties ---------------------------------------------


def _create(site: Site, **fields: Any) -> httpx.Response:
    body = {
        "project": {"key": "PROJ"},
        "issuetype": {"name": "Bug"},
        "summary": "Cart total ignores coupons",
        **fields,
    }
    return site.http.post(f"{site.api}/issue", json={"fields": body})


def test_create_validates_fields_like_jira(site: Site) -> None:
    plain = _create(site, description="plain text")
    if site.flavor == "cloud":  # v3 wants ADF for rich text
        assert plain.status_code == 400
        assert "Atlassian Document" in plain.json()["errors"]["description"]
    else:
        assert plain.status_code == 201
    response = _create(site, summary="", project={"key": "NOPE"}, colour="red")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "project": "valid project is required",
        "summary": "You must specify a summary of the issue.",
        "colour": "Field 'colour' cannot be set. It is not on the appropriate screen, or unknown.",
    }
    created = _create(
        site,
        labels=["testkase-defect"],
        priority={"name": "High" if site.flavor == "cloud" else "Critical"},
    )
    assert created.status_code == 201 and set(created.json()) == {"id", "key", "self"}


def test_restricted_workflow(site: Site, shared_dir: Path) -> None:
    key = _create(site).json()["key"]
    url = f"{site.api}/issue/{key}/transitions"

    def available() -> list[str]:
        return [t["to"]["name"] for t in site.http.get(url).json()["transitions"]]

    def move(transition_id: str, **fields: Any) -> httpx.Response:
        return site.http.post(url, json={"transition": {"id": transition_id}, "fields": fields})

    assert available() == ["In Progress"]
    assert move("41").json()["errorMessages"] == ["Transition id '41' is not valid for this issue."]
    bad = site.http.post(url, json={"transition": {"id": "go"}})
    assert bad.json() == sample(shared_dir, "error-400-transition-id-not-integer.real.json")
    assert move("11").status_code == 204 and move("21").status_code == 204
    assert sorted(available()) == ["Done", "In Progress"]
    refused = move("41")
    assert refused.status_code == 400
    assert refused.json() == {
        "errorMessages": [],
        "errors": {"resolution": "Resolution is required."},
    }
    expanded = site.http.get(url, params={"expand": "transitions.fields"}).json()
    done = next(t for t in expanded["transitions"] if t["id"] == "41")
    assert done["fields"]["resolution"]["required"] is True
    assert move("41", resolution={"name": "Done"}).status_code == 204
    issue = site.http.get(f"{site.api}/issue/{key}").json()["fields"]
    assert issue["status"]["name"] == "Done" and issue["resolution"]["name"] == "Done"
    assert available() == ["To Do"]  # Reopen; Won't Do is never offered
    status = site.http.put(
        f"{site.api}/issue/{key}", json={"fields": {"status": {"name": "To Do"}}}
    )
    assert status.status_code == 400


def test_updated_moves_on_edit_transition_and_comment(site: Site) -> None:
    key = _create(site).json()["key"]

    def updated() -> str:
        return str(site.http.get(f"{site.api}/issue/{key}").json()["fields"]["updated"])

    stamps = [updated()]
    for action in (
        lambda: site.http.put(f"{site.api}/issue/{key}", json={"fields": {"summary": "Renamed"}}),
        lambda: site.http.post(
            f"{site.api}/issue/{key}/transitions", json={"transition": {"id": "11"}}
        ),
        lambda: site.http.post(
            f"{site.api}/issue/{key}/comment",
            json={
                "body": "Seen."
                if site.flavor == "server"
                else {
                    "type": "doc",
                    "version": 1,
                    "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": "Seen."}]}
                    ],
                }
            },
        ),
    ):
        site.control("POST", "clock", {"advance_s": 5})
        assert action().status_code < 300
        stamps.append(updated())
    assert stamps == sorted(set(stamps))


def test_comments_validate_and_page(site: Site) -> None:
    url = f"{site.api}/issue/PROJ-2/comment"
    empty = site.http.post(url, json={"body": ""})
    assert empty.status_code == 400
    assert empty.json()["errors"] == {"comment": "Comment body can not be empty!"}
    if site.flavor == "cloud":
        assert site.http.post(url, json={"body": "a string"}).status_code == 400
    for n in range(3):
        site.control("POST", "issues/10002/comments", {"body": f"note {n}"})
        site.control("POST", "clock", {"advance_s": 1})
    page = site.http.get(url, params={"startAt": 1, "maxResults": 1, "orderBy": "-created"}).json()
    assert page["total"] == 3 and page["startAt"] == 1 and len(page["comments"]) == 1
    body = page["comments"][0]["body"]
    text = body if site.flavor == "server" else body["content"][0]["content"][0]["text"]
    assert text == "note 1"


def test_properties_are_stored_and_returned_inline(site: Site) -> None:
    url = f"{site.api}/issue/PROJ-4/properties/testkase"
    assert site.http.put(url, json={"marker": "m-1"}).status_code == 201
    assert site.http.put(url, json={"marker": "m-2"}).status_code == 200
    assert site.http.get(url).json() == {"key": "testkase", "value": {"marker": "m-2"}}
    issue = site.http.get(f"{site.api}/issue/PROJ-4", params={"properties": "testkase"}).json()
    assert issue["properties"] == {"testkase": {"marker": "m-2"}}
    assert site.http.get(f"{site.api}/issue/PROJ-4/properties/other").status_code == 404


def test_moves_keep_the_id_and_old_keys_resolve(site: Site) -> None:
    moved = site.control("POST", "issues/10003/move", {})
    assert moved["key"].startswith("OTHER-") and moved["id"] == "10003"
    old = site.http.get(f"{site.api}/issue/PROJ-3").json()
    assert old["id"] == "10003" and old["key"] == moved["key"]


def test_deleted_issue_is_gone(cloud: Site) -> None:
    cloud.anonymous.delete("/_sandbox/issues/10005")
    response = cloud.http.get("/rest/api/3/issue/PROJ-5")
    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }
    rows = cloud.control("GET", "issues")
    assert next(r for r in rows if r["id"] == "10005")["deleted"] is True


def test_rate_limit_headers(site: Site) -> None:
    site.control("POST", "faults", {"rate_limit_every": 1, "retry_after_s": 7})
    response = site.http.get(f"{site.api}/myself")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    if site.flavor == "cloud":
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", response.headers["X-RateLimit-Reset"])
        assert response.headers["RateLimit-Reason"] == "jira-burst-based"
    else:
        assert response.headers["X-RateLimit-FillRate"]


# -- control API ------------------------------------------------------------------------


def test_bulk_seed_is_fast_and_searchable(cloud: Site) -> None:
    started = time.monotonic()
    cloud.control("POST", "seed", {"count": 100_000, "seed": 9, "labels": ["bulk"]})
    assert time.monotonic() - started < 5
    count = cloud.http.post("/rest/api/3/search/approximate-count", json={"jql": "labels = bulk"})
    assert count.json() == {"count": 100_000}


def test_control_issues_round_trip(site: Site) -> None:
    created = site.control(
        "POST",
        "issues",
        {
            "title": "Gift wrap",
            "description": "Wrap it.",
            "labels": ["x"],
            "status": "Done",
            "priority": "Low" if site.flavor == "cloud" else "Minor",
        },
    )
    assert set(created) >= {
        "id",
        "key",
        "ref",
        "project",
        "title",
        "description",
        "status",
        "priority",
        "labels",
        "state",
        "moved_to_id",
        "deleted",
        "comments",
    }
    assert created["state"] == "done" and created["description"] == "Wrap it."
    edited = site.control("PATCH", f"issues/{created['id']}", {"title": "Gift wrapping"})
    assert edited["title"] == "Gift wrapping" and edited["updated"] >= created["updated"]
    assert [r["id"] for r in site.control("GET", "issues?label=x")] == [created["id"]]
    refused = site.anonymous.patch(f"/_sandbox/issues/{created['id']}", json={"status": "Closed"})
    assert refused.status_code == 400
    now = site.control("POST", "clock", {"set": "2030-01-01T00:00:00Z"})
    assert now["now"].startswith("2030-01-01T00:00:0")


def test_config_names_what_it_refuses(site: Site) -> None:
    unknown = site.anonymous.post("/_sandbox/config", json={"colour": "red"})
    assert unknown.status_code == 400 and "search_lag_s" in unknown.json()["error"]
    bad = site.anonymous.post("/_sandbox/config", json={"issue_types": "Bug"})
    assert bad.status_code == 400 and "issue_types" in bad.json()["error"]
    zone = site.anonymous.post("/_sandbox/config", json={"time_zone": "Mars/Olympus"})
    assert zone.status_code == 400
    ok = site.control("POST", "config", {"issue_types": ["Task"], "search_lag_s": 1.5})
    assert ok["issue_types"] == ["Task"] and ok["time_zone"] == "Europe/Berlin"
