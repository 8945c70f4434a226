"""The emulator's answers validated against Atlassian's OpenAPI documents.

Each response is checked against the schema of its own operation (path, method, status) in
jira-cloud-platform-v3.json (Cloud) or jira-dc-10.3.json (Server). Where a document is
contradicted by real captures (shared/samples/jira), the capture wins and the test says so:

- `date-time`: Jira renders `2021-08-11T13:19:06.887+0300` (no colon in the offset), which
  is not RFC 3339; the checker accepts Jira's form.
- DC `IssueBean.fields` declares every field value an object, against its own example
  (`"description": "example bug report"`, `"updated": 1`): relaxed to any value.
- DC `GET /project` declares one ProjectBean; Jira answers an array: each item is checked.
- DC createmeta declares single beans; Jira 9+ answers pages (`values`, `isLast`, as in
  samples/jira/server-v9-createmeta-issuetypes.json): each value is checked.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from testkase_cli.sandbox.core import App
from testkase_cli.sandbox.jira import create_app

JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Checked."}]}],
}


def _date_time(value: object) -> bool:
    if not isinstance(value, str) or JIRA_TIME.match(value):
        return True
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


class Spec:
    """One OpenAPI document, loaded once, validating responses of its operations."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.doc = json.loads(path.read_text())
        self.prefix = prefix
        registry: Registry[Any] = Registry().with_resource(
            "urn:spec", Resource.from_contents(self.doc, default_specification=DRAFT4)
        )
        self.registry = registry
        self.checker = FormatChecker()
        self.checker.checkers = dict(oas30_format_checker.checkers)
        self.checker.checks("date-time")(_date_time)

    def errors(self, path: str, method: str, status: str, instance: Any) -> list[str]:
        operation = self.doc["paths"][self.prefix + path][method]
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = {"$ref": "urn:spec" + schema["$ref"]}
        validator = OAS30ReadValidator(schema, registry=self.registry, format_checker=self.checker)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def _openapi(name: str) -> Path:
    path = Path(__file__).resolve().parents[3].parent / "shared" / "openapi" / name
    if not path.is_file():
        pytest.skip(f"OpenAPI document not found at {path}")
    return path


@pytest.fixture(scope="session")
def cloud_spec() -> Spec:
    return Spec(_openapi("jira-cloud-platform-v3.json"), "/rest/api/3")


@pytest.fixture(scope="session")
def dc_spec() -> Spec:
    spec = Spec(_openapi("jira-dc-10.3.json"), "/api/2")
    issue = copy.deepcopy(spec.doc["components"]["schemas"]["IssueBean"])
    issue["properties"]["fields"]["additionalProperties"] = {}
    spec.doc["components"]["schemas"]["IssueBean"] = issue
    spec.registry = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec.doc, default_specification=DRAFT4)
    )
    return spec


@pytest.fixture
def site(serve: Callable[[App], str], request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    flavor = request.param
    auth = (
        "Basic " + base64.b64encode(b"tester@example.com:sandbox-token").decode()
        if flavor == "cloud"
        else "Bearer sandbox-token"
    )
    client = httpx.Client(
        base_url=serve(create_app(flavor=flavor, seed=5)),
        headers={"Authorization": auth, "Accept": "application/json"},
    )
    api = "/rest/api/3" if flavor == "cloud" else "/rest/api/2"
    body: Any = ADF if flavor == "cloud" else "Checked."
    assert client.post(f"{api}/issue/PROJ-1/comment", json={"body": body}).status_code == 201
    client.put(f"{api}/issue/PROJ-1/properties/testkase", json={"marker": "m"})
    yield client
    client.close()


@pytest.mark.parametrize("site", ["cloud"], indirect=True)
def test_cloud_answers_match_the_cloud_document(site: httpx.Client, cloud_spec: Spec) -> None:
    bug = next(
        t
        for t in site.get("/rest/api/3/issue/createmeta/PROJ/issuetypes").json()["issueTypes"]
        if t["name"] == "Bug"
    )
    checks = [
        ("/myself", "get", "200", site.get("/rest/api/3/myself")),
        ("/project/search", "get", "200", site.get("/rest/api/3/project/search")),
        ("/project/{projectIdOrKey}", "get", "200", site.get("/rest/api/3/project/PROJ")),
        (
            "/search/jql",
            "post",
            "200",
            site.post("/rest/api/3/search/jql", json={"jql": "project = PROJ", "fields": ["*all"]}),
        ),
        (
            "/search/jql",
            "get",
            "200",
            site.get("/rest/api/3/search/jql", params={"jql": "project = PROJ", "maxResults": 3}),
        ),
        (
            "/issue/{issueIdOrKey}",
            "get",
            "200",
            site.get("/rest/api/3/issue/PROJ-1", params={"properties": "testkase"}),
        ),
        (
            "/issue/{issueIdOrKey}/transitions",
            "get",
            "200",
            site.get("/rest/api/3/issue/PROJ-1/transitions?expand=transitions.fields"),
        ),
        (
            "/issue/{issueIdOrKey}/comment",
            "get",
            "200",
            site.get("/rest/api/3/issue/PROJ-1/comment"),
        ),
        (
            "/issue/{issueIdOrKey}/comment",
            "post",
            "201",
            site.post("/rest/api/3/issue/PROJ-2/comment", json={"body": ADF}),
        ),
        (
            "/issue/createmeta/{projectIdOrKey}/issuetypes",
            "get",
            "200",
            site.get("/rest/api/3/issue/createmeta/PROJ/issuetypes"),
        ),
        (
            "/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
            "get",
            "200",
            site.get(f"/rest/api/3/issue/createmeta/PROJ/issuetypes/{bug['id']}"),
        ),
        (
            "/issue/bulkfetch",
            "post",
            "200",
            site.post("/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": ["PROJ-1", "PROJ-2"]}),
        ),
        (
            "/search/approximate-count",
            "post",
            "200",
            site.post("/rest/api/3/search/approximate-count", json={"jql": "project = PROJ"}),
        ),
        ("/priority/search", "get", "200", site.get("/rest/api/3/priority/search")),
        (
            "/issue/{issueIdOrKey}/properties/{propertyKey}",
            "get",
            "200",
            site.get("/rest/api/3/issue/PROJ-1/properties/testkase"),
        ),
        (
            "/issue",
            "post",
            "201",
            site.post(
                "/rest/api/3/issue",
                json={
                    "fields": {
                        "project": {"key": "PROJ"},
                        "issuetype": {"name": "Bug"},
                        "summary": "Schema check",
                        "description": ADF,
                    }
                },
            ),
        ),
    ]
    for path, method, status, response in checks:
        assert str(response.status_code) == status, (path, response.text)
        assert cloud_spec.errors(path, method, status, response.json()) == [], path


@pytest.mark.parametrize("site", ["server"], indirect=True)
def test_server_answers_match_the_data_center_document(site: httpx.Client, dc_spec: Spec) -> None:
    def each(path: str, method: str, items: list[Any]) -> list[str]:
        return [e for item in items for e in dc_spec.errors(path, method, "200", item)]

    types = site.get("/rest/api/2/issue/createmeta/PROJ/issuetypes").json()
    assert {"maxResults", "startAt", "total", "isLast", "values"} <= set(types)
    bug = next(t for t in types["values"] if t["name"] == "Bug")
    fields = site.get(f"/rest/api/2/issue/createmeta/PROJ/issuetypes/{bug['id']}").json()
    assert each("/issue/createmeta/{projectIdOrKey}/issuetypes", "get", types["values"]) == []
    assert (
        each("/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}", "get", fields["values"])
        == []
    )
    assert each("/project", "get", site.get("/rest/api/2/project").json()) == []
    assert each("/priority", "get", site.get("/rest/api/2/priority").json()) == []
    checks = [
        ("/myself", "get", "200", site.get("/rest/api/2/myself")),
        (
            "/search",
            "get",
            "200",
            site.get("/rest/api/2/search", params={"jql": "project = PROJ", "fields": "*all"}),
        ),
        (
            "/search",
            "post",
            "200",
            site.post("/rest/api/2/search", json={"jql": "labels = testable"}),
        ),
        ("/issue/{issueIdOrKey}", "get", "200", site.get("/rest/api/2/issue/PROJ-1")),
        (
            "/issue/{issueIdOrKey}/transitions",
            "get",
            "200",
            site.get("/rest/api/2/issue/PROJ-1/transitions?expand=transitions.fields"),
        ),
        (
            "/issue/{issueIdOrKey}/comment",
            "get",
            "200",
            site.get("/rest/api/2/issue/PROJ-1/comment"),
        ),
        (
            "/issue/{issueIdOrKey}/comment",
            "post",
            "201",
            site.post("/rest/api/2/issue/PROJ-2/comment", json={"body": "Checked."}),
        ),
        (
            "/issue",
            "post",
            "201",
            site.post(
                "/rest/api/2/issue",
                json={
                    "fields": {
                        "project": {"key": "PROJ"},
                        "issuetype": {"name": "Bug"},
                        "summary": "Schema check",
                    }
                },
            ),
        ),
    ]
    for path, method, status, response in checks:
        assert str(response.status_code) == status, (path, response.text)
        assert dc_spec.errors(path, method, status, response.json()) == [], path


def test_jira_timestamps_are_accepted_and_others_refused() -> None:
    assert _date_time("2021-08-11T13:19:06.887+0300")
    assert not _date_time("11/Aug/21 1:19 PM")
