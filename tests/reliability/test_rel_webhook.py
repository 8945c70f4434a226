"""`webhook serve` input: secrets checked in constant time, wrong or empty ones refused,
and any body (mutated published samples, random bytes) answered, never a crash.

Only adds tests: services/webhook.py belongs to the webhook work.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import inspect
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.conftest import examples
from tests.reliability.rel_fuzz import mutated
from tests.services.webhook_helpers import SECRET, gitlab_headers, jira_headers, sample

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.services import webhook
from testkase_cli.services.webhook import Receiver, SyncTrigger

GITLAB = ConnectionSettings(platform="gitlab", url="https://gitlab.example", project="demo/web")
JIRA = ConnectionSettings(platform="jira", url="https://acme.atlassian.net", project="PROJ")
FUZZ = settings(
    max_examples=examples(60, 1500),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Counting(SyncTrigger):
    def __init__(self) -> None:
        super().__init__(lambda: None, lambda _m: None)
        self.requests = 0

    def request(self) -> None:
        self.requests += 1


def _receiver(conn: ConnectionSettings) -> tuple[Receiver, Counting]:
    trigger = Counting()
    return Receiver(SECRET, conn, trigger, lambda _line: None), trigger


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_secrets_are_compared_with_hmac_compare_digest_only() -> None:
    """No `==`/`!=`/`in` on the secret or the expected signature (they leak timing)."""
    tree = ast.parse(inspect.getsource(webhook))
    calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert "hmac.compare_digest" in calls
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            names = {ast.unparse(n) for n in ast.walk(node) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
            assert not names & {"secret", "_secret", "expected"}, ast.unparse(node)


WRONG = ["", " ", SECRET + " ", " " + SECRET, SECRET[:-1], SECRET.upper(), SECRET + "\x00"]


@pytest.mark.parametrize("token", WRONG)
def test_a_wrong_or_empty_gitlab_token_is_refused(token: str) -> None:
    receiver, trigger = _receiver(GITLAB)
    body = json.dumps(sample("gitlab_issue_hook.json")).encode()
    reply = receiver.handle(_lower(gitlab_headers(secret=token)), body)
    assert reply.status == 401 and trigger.requests == 0


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=",
        "sha256",
        "sha1={digest}",
        "md5={digest}",
        "sha256={digest}00",
        "sha256={other}",
        "{digest}",
    ],
)
def test_a_wrong_or_empty_jira_signature_is_refused(signature: str) -> None:
    receiver, trigger = _receiver(JIRA)
    body = json.dumps(sample("jira_cloud_issue_updated_minimal.json")).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    other = hmac.new(SECRET.encode(), body + b" ", hashlib.sha256).hexdigest()
    headers = _lower(jira_headers(body, secret=None))
    headers["x-hub-signature"] = signature.format(digest=digest, other=other)
    reply = receiver.handle(headers, body)
    assert reply.status == 401 and trigger.requests == 0
    headers["x-hub-signature"] = f"sha256={digest.upper()}"  # the right one is accepted
    assert receiver.handle(headers, body).status in (200, 202)


@FUZZ
@given(token=st.text(max_size=64).filter(lambda t: t != SECRET))
def test_no_other_gitlab_token_is_accepted(token: str) -> None:
    receiver, trigger = _receiver(GITLAB)
    reply = receiver.handle({"x-gitlab-token": token}, b"{}")
    assert reply.status == 401 and trigger.requests == 0


BASES = {
    "gitlab": [sample("gitlab_issue_hook.json"), sample("gitlab_note_hook_issue.json")],
    "jira": [
        sample("jira_cloud_issue_updated_minimal.json"),
        sample("jira_cloud_comment_created.json"),
        sample("jira_server_comment_created.json"),
    ],
}


def _signed(platform: str, body: bytes) -> dict[str, str]:
    if platform == "gitlab":
        return _lower(gitlab_headers())
    return _lower(jira_headers(body))


@pytest.mark.parametrize("platform", ["gitlab", "jira"])
@FUZZ
@given(data=st.data())
def test_any_signed_body_gets_an_answer(platform: str, data: st.DataObject) -> None:
    """Mutated samples (missing keys, wrong types) and raw bytes: 200, 202 or 400."""
    receiver, _ = _receiver(GITLAB if platform == "gitlab" else JIRA)
    if data.draw(st.integers(0, 9)) == 0:
        body = data.draw(st.binary(max_size=300))
    else:
        doc: Any = data.draw(mutated(BASES[platform]))
        body = json.dumps(doc).encode()
    reply = receiver.handle(_signed(platform, body), body)
    assert reply.status in (200, 202, 400), reply
