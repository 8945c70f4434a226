"""The one HTTP funnel every tracker adapter goes through.

It owns timeouts, retries with jittered backoff that honour `Retry-After` and the
RateLimit headers within a bounded budget, request counting, token masking in logs and
errors, and translation of transport failures into `KaseError`s. A POST is retried only
when the request certainly did not reach the tracker (connect error, 429, 503 with
`Retry-After`); any other failure of a POST surfaces as `UncertainWriteError`, so the
caller can look for its earlier attempt instead of writing twice.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from testkase_cli.errors import KaseError, UnreachableError

log = logging.getLogger("testkase.http")

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class UncertainWriteError(UnreachableError):
    """A write may or may not have been applied by the tracker (lost response)."""

    code = "uncertain_write"


@dataclass
class RetryPolicy:
    """Backoff settings; `budget_s` bounds the total time spent waiting on retries."""

    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0
    budget_s: float = 120.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        raw = os.environ.get("TESTKASE_RETRY_BUDGET")
        if raw is None:
            return cls()
        try:
            budget = max(0.0, float(raw))
        except ValueError:
            return cls()
        return cls(budget_s=budget, cap_s=min(cls.cap_s, max(budget, 0.05)))


DEFAULT_TIMEOUT_S = 30.0


def timeout_from_env() -> float:
    """Seconds to wait for the tracker per attempt: TESTKASE_HTTP_TIMEOUT, else 30."""
    raw = os.environ.get("TESTKASE_HTTP_TIMEOUT")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if 0 < value < float("inf") else DEFAULT_TIMEOUT_S


@dataclass
class Counters:
    requests: int = 0
    lists: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, endpoint: str, *, listing: bool) -> None:
        """Count one attempt; safe when several threads share the funnel."""
        with self._lock:
            self.requests += 1
            if listing:
                self.lists += 1
            self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds the tracker asked us to wait, from Retry-After or the reset headers."""
    headers = response.headers
    raw = headers.get("Retry-After")
    if raw:
        raw = raw.strip()
        if raw.isdigit():
            return float(raw)
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            current = now or datetime.now(UTC)
            return max(0.0, (when - current).total_seconds())
    reset = headers.get("RateLimit-Reset")
    if reset and reset.strip().isdigit() and response.status_code == 429:
        value = float(reset)
        # GitLab sends a Unix time; small numbers are delta seconds (IETF draft).
        if value > 1_000_000_000:
            return max(0.0, value - time.time())
        return value
    jira_reset = headers.get("X-RateLimit-Reset")
    if jira_reset and response.status_code == 429:
        try:
            when = datetime.strptime(jira_reset.strip(), "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return None


class Funnel:
    """A pooled client bound to one tracker base URL and one set of auth headers."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        secret: str,
        translate: Callable[[httpx.Response], KaseError],
        policy: RetryPolicy | None = None,
        timeout_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._translate = translate
        self.policy = policy or RetryPolicy.from_env()
        self._sleep = sleep
        self.counters = Counters()
        if timeout_s is None:
            timeout_s = timeout_from_env()
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Accept": "application/json", "User-Agent": "testkase", **headers},
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            follow_redirects=True,
        )

    def mask(self, text: str) -> str:
        if self._secret and self._secret in text:
            text = text.replace(self._secret, "***")
        return text

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        listing: bool = False,
        idempotent: bool = False,
    ) -> httpx.Response:
        """Send one logical request; return the response when its status is in `ok`.

        `idempotent` marks a POST that is safe to send again: one that changes nothing (a
        search sent as POST) or whose repeat changes nothing more (creating a label that
        then exists: 409). It is retried like a GET; its failures are never uncertain
        writes."""
        method = method.upper()
        safe = idempotent or method in SAFE_METHODS
        started = time.monotonic()
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.counters.count(f"{method} {path.split('?', 1)[0]}", listing=listing)
            cause: Exception | None = None
            try:
                response = self._client.request(method, path, params=params, json=json)
            except httpx.TimeoutException as exc:
                retry, delay = self._after_transport_error(safe, attempt, sent=True)
                failure = self._transport_error(method, path, exc, sent=True, safe=safe)
                cause = exc
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                retry, delay = self._after_transport_error(safe, attempt, sent=sent)
                failure = self._transport_error(method, path, exc, sent=sent, safe=safe)
                cause = exc
            except httpx.HTTPError as exc:
                raise self._transport_error(method, path, exc, sent=True, safe=safe) from exc
            else:
                log.debug(
                    "%s %s -> %s (%.0f ms)",
                    method,
                    self.mask(str(response.request.url)),
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
                if response.status_code in ok:
                    return response
                retry, delay = self._after_status(safe, attempt, response)
                failure = self._status_error(safe, method, response)
            # Out of attempts, or the wait would pass the budget: the last failure is the
            # error (what it was: refused connection, timeout, 503, 429...).
            if not retry or waited + delay > self.policy.budget_s:
                raise failure from cause
            log.debug("retrying %s %s in %.2f s (attempt %d)", method, path, delay, attempt)
            self._sleep(delay)
            waited += delay

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.policy.cap_s, self.policy.base_s * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security

    def _after_transport_error(self, safe: bool, attempt: int, *, sent: bool) -> tuple[bool, float]:
        if attempt >= self.policy.attempts:
            return False, 0.0
        if sent and not safe:
            return False, 0.0
        return True, self._backoff(attempt)

    def _after_status(
        self, safe: bool, attempt: int, response: httpx.Response
    ) -> tuple[bool, float]:
        status = response.status_code
        if status not in RETRYABLE_STATUS or attempt >= self.policy.attempts:
            return False, 0.0
        asked = retry_after_seconds(response)
        not_processed = status == 429 or (status == 503 and asked is not None)
        if not safe and not not_processed:
            return False, 0.0
        if asked is not None:
            return True, asked + random.uniform(0, min(1.0, self.policy.base_s))  # noqa: S311
        return True, self._backoff(attempt)

    def _transport_error(
        self, method: str, path: str, exc: httpx.HTTPError, *, sent: bool, safe: bool
    ) -> KaseError:
        what = type(exc).__name__
        if sent and not safe:
            return UncertainWriteError(
                f"no answer from the tracker to {method} {path} ({what}); it may have been applied",
                hint="run the command again: testkase looks for the earlier attempt first",
            )
        return UnreachableError(
            f"cannot reach the tracker at {self.mask(self.base_url)} ({what})",
            hint="check the URL, your network or VPN, and that the instance is up",
        )

    def _status_error(self, safe: bool, method: str, response: httpx.Response) -> KaseError:
        status = response.status_code
        if not safe and status in (500, 502, 504):
            return UncertainWriteError(
                f"the tracker answered {status} to {method} {response.request.url.path}; "
                "the write may have been applied",
                hint="run the command again: testkase looks for the earlier attempt first",
            )
        error = self._translate(response)
        error.message = self.mask(error.message)
        error.hint = self.mask(error.hint)
        return error


def describe_status(response: httpx.Response) -> str:
    """A short reason from any error body: JSON message/error fields, else the text."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip().splitlines()
        return text[0][:200] if text else response.reason_phrase
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("errorMessages", "message", "error", "error_description", "errors"):
            value = body.get(key)
            if isinstance(value, list):
                parts.extend(str(v) for v in value)
            elif isinstance(value, dict):
                parts.extend(f"{k}: {_flatten(v)}" for k, v in value.items())
            elif value:
                parts.append(str(value))
    return "; ".join(parts)[:500] or response.reason_phrase


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
