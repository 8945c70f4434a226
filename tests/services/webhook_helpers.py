"""Webhook deliveries for the tests, built from the published payload samples."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "webhook_samples"
SECRET = "s3cr3t-for-tests-only-0123456789"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def gitlab_issue(issue_id: str, iid: str, project: str = "demo/web") -> dict[str, Any]:
    payload = sample("gitlab_issue_hook.json")
    payload["object_attributes"].update({"id": int(issue_id), "iid": int(iid), "action": "update"})
    payload["project"].update({"path_with_namespace": project})
    return payload


def jira_issue(issue_id: str, key: str) -> dict[str, Any]:
    payload = sample("jira_cloud_issue_updated_minimal.json")
    payload["issue"].update({"id": issue_id, "key": key})
    return payload


def gitlab_headers(
    secret: str | None = SECRET, event: str = "Issue Hook", delivery: str | None = None
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": event,
        "Idempotency-Key": delivery or str(uuid.uuid4()),
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "User-Agent": "GitLab/17.5.0",
    }
    if secret is not None:
        headers["X-Gitlab-Token"] = secret
    return headers


def jira_headers(
    body: bytes, secret: str | None = SECRET, delivery: str | None = None
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4()),
    }
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature"] = f"sha256={digest}"
    return headers


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
