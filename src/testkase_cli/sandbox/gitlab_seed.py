"""The emulator's default dataset and the bulk seed behind `POST /_sandbox/seed`."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from testkase_cli.sandbox.gitlab_state import (
    MAINTAINER,
    OWNER,
    GitLabState,
    Issue,
    Project,
    Token,
    User,
)

SANDBOX_TOKEN = "sandbox-token"
READONLY_TOKEN = "readonly-token"
EXPIRED_TOKEN = "expired-token"
REVOKED_TOKEN = "revoked-token"

TESTER_ID, ALICE_ID = 7, 12
DAY_MS = 86_400_000

_REQUIREMENTS: list[tuple[str, str, list[str], str]] = [
    (
        "Users can reset their password from the sign-in page",
        "## Goal\nA user who forgot their password gets a reset link by email.\n\n"
        "## Acceptance criteria\n- [x] link expires after 30 minutes\n- [ ] link works once\n"
        "- [ ] the old password stops working",
        ["testable", "priority::high"],
        "opened",
    ),
    (
        "Checkout totals include VAT for the shipping country",
        "Totals on the **review order** step show VAT computed for the *shipping* "
        "country, not the billing one.\n\nSee the tax table in `docs/tax.md`.",
        ["testable", "priority::critical"],
        "opened",
    ),
    (
        "Search results are paginated by 25",
        "- 25 results a page\n- page links at the bottom\n- the page number is kept in the URL",
        ["priority::medium"],
        "opened",
    ),
    (
        "Sessions expire after 30 minutes of inactivity",
        "An idle session is signed out after **30 minutes**; a warning shows 2 minutes before.",
        ["testable", "priority::high"],
        "closed",
    ),
    (
        "Order history can be exported as CSV",
        "From *My orders*, an **Export** button downloads a CSV with one row per order line.",
        [],
        "opened",
    ),
    (
        "Two-factor authentication with TOTP apps",
        "## Scope\nTOTP (RFC 6238) with any authenticator app.\n\n"
        "1. enrol from the profile page\n2. 10 recovery codes\n3. enforce for admins",
        ["testable", "priority::critical"],
        "opened",
    ),
    (
        "Product images load lazily below the fold",
        'Images outside the first viewport use `loading="lazy"`.',
        [],
        "opened",
    ),
    (
        "Every form field has an accessible label",
        "WCAG 2.1 AA: each input has a `<label>` or `aria-label`.\n\n> Audit: March report",
        ["testable", "priority::medium", "documentation"],
        "opened",
    ),
    (
        "Admins can deactivate a customer account",
        "A deactivated account cannot sign in; its orders stay visible to admins.",
        ["priority::medium"],
        "closed",
    ),
    (
        "Newsletter opt-in is unchecked by default",
        "GDPR: consent is never pre-ticked on the sign-up form.",
        ["priority::high"],
        "opened",
    ),
    (
        "Partner API rate limits are documented",
        "Document the `429` responses and the `Retry-After` header for partners.",
        ["documentation"],
        "closed",
    ),
    (
        "Carts persist across devices for signed-in users",
        "Adding an item on the phone shows it in the cart on the laptop within 5 seconds.",
        ["priority::high"],
        "opened",
    ),
]

_WORDS = (
    "checkout",
    "cart",
    "invoice",
    "profile",
    "search",
    "export",
    "import",
    "login",
    "audit",
    "report",
    "billing",
    "shipping",
    "catalog",
    "coupon",
    "refund",
    "wishlist",
    "review",
    "rating",
    "inventory",
    "payment",
    "session",
    "dashboard",
    "webhook",
    "locale",
    "address",
)
_VERBS = ("shows", "validates", "exports", "caches", "filters", "sorts", "emails", "logs")


def build_default(state: GitLabState, *, seed: int) -> None:
    """Users, tokens, projects with labels, and ~12 requirement issues with notes."""
    now = state.clock.now()
    expiry = datetime.fromtimestamp((now + 60 * DAY_MS) / 1000, UTC)
    state.config.token_expires_at = expiry.date().isoformat()
    state.users[TESTER_ID] = User(
        TESTER_ID, "sandbox.tester", "Sandbox Tester", "tester@example.com"
    )
    state.users[ALICE_ID] = User(ALICE_ID, "alice", "Alice Example", "alice@example.com")
    for token_id, (secret, scopes) in enumerate(
        [
            (SANDBOX_TOKEN, ("api",)),
            (READONLY_TOKEN, ("read_api",)),
            (EXPIRED_TOKEN, ("api",)),
            (REVOKED_TOKEN, ("api",)),
        ],
        start=41,
    ):
        state.tokens[secret] = Token(
            token_id,
            secret,
            f"testkase {scopes[0]}",
            TESTER_ID,
            scopes,
            now - 30 * DAY_MS,
            revoked=secret == REVOKED_TOKEN,
            expired=secret == EXPIRED_TOKEN,
        )
    members = {TESTER_ID: OWNER, ALICE_ID: MAINTAINER}
    web = _project(state, 1, "web", "demo", "Demo", 31, "The web shop.", members, now)
    other = _project(state, 2, "other", "demo", "Demo", 31, "Where issues move.", members, now)
    _project(state, 3, "archive", "qa", "QA", 32, "Closed-out work.", {TESTER_ID: MAINTAINER}, now)
    _project(state, 4, "handbook", "community", "Community", 33, "Public docs.", {}, now, "public")
    for project in (web, other):
        state.add_label(project, "testable", "#428BCA", "Requirements testkase syncs")
        state.add_label(project, "priority::critical", "#CC0000", None)
        state.add_label(project, "priority::high", "#FC9403", None)
        state.add_label(project, "priority::medium", "#F0AD4E", None)
        state.add_label(project, "documentation", "#F0AD4E", "Docs work")
    rng = random.Random(seed)
    for title, description, labels, issue_state in _REQUIREMENTS:
        created = now - rng.randint(20, 60) * DAY_MS
        updated = created + rng.randint(1, 19) * DAY_MS + rng.randint(0, DAY_MS)
        state.create_issue(
            web,
            title=title,
            description=description,
            labels=labels,
            author_id=ALICE_ID,
            state=issue_state,
            created=created,
            updated=updated,
        )
    state.create_issue(
        web,
        title="Renew the staging TLS certificate",
        description=None,
        labels=[],
        author_id=TESTER_ID,
        issue_type="task",
        created=now - 3 * DAY_MS,
    )
    state.create_issue(
        web,
        title="Checkout answered 502 for 4 minutes",
        description="Post-mortem pending.",
        labels=["priority::critical"],
        author_id=ALICE_ID,
        issue_type="incident",
        created=now - 2 * DAY_MS,
    )
    _discussion(state, web)


def _project(
    state: GitLabState,
    project_id: int,
    path: str,
    namespace: str,
    namespace_name: str,
    namespace_id: int,
    description: str,
    members: dict[int, int],
    now: int,
    visibility: str = "private",
) -> Project:
    project = Project(
        id=project_id,
        name=path.capitalize(),
        path=path,
        namespace=namespace,
        namespace_name=namespace_name,
        namespace_id=namespace_id,
        description=description,
        visibility=visibility,
        created=now - 400 * DAY_MS,
        members=dict(members),
    )
    state.projects[project_id] = project
    return project


def _discussion(state: GitLabState, web: Project) -> None:
    """Comments and system notes, interleaved, on the first issues; times kept."""
    first, second = (state.issues[i] for i in web.issue_ids[:2])
    _note(state, first, "assigned to @alice", TESTER_ID, system=True, at=first.created + 3_600_000)
    _note(
        state,
        first,
        "Does the link also work on the mobile app?",
        TESTER_ID,
        at=first.created + 7_200_000,
    )
    _note(
        state, first, "changed the description", ALICE_ID, system=True, at=first.created + 9_000_000
    )
    _note(
        state,
        first,
        "Yes, it opens the app when installed.\r\n",
        ALICE_ID,
        at=first.created + 10_800_000,
    )
    _note(
        state,
        second,
        "mentioned in merge request !12",
        ALICE_ID,
        system=True,
        at=second.created + DAY_MS,
    )
    _note(
        state,
        second,
        "Which rate applies to Northern Ireland?",
        TESTER_ID,
        at=second.created + 2 * DAY_MS,
    )


def _note(
    state: GitLabState, issue: Issue, body: str, author: int, *, at: int, system: bool = False
) -> None:
    note = state.add_note(issue, body, author, system=system, touch=False)
    note.created = note.updated = min(at, issue.updated)


def bulk_seed(
    state: GitLabState, project: Project, *, count: int, seed: int, labels: list[str]
) -> int:
    """Create `count` requirement issues fast: varied titles, states, priorities, times."""
    rng = random.Random(seed)
    now = state.clock.now()
    priorities: list[str | None] = ["priority::critical", "priority::high", "priority::medium"]
    priorities += [None, None]
    for name in labels:
        if name not in project.labels:
            state.add_label(project, name)
    for maybe in priorities:
        if maybe is not None and maybe not in project.labels:
            state.add_label(project, maybe)
    issues = state.issues
    ids = project.issue_ids
    by_iid = project.by_iid
    next_id, next_iid = state.next_issue_id, project.next_iid
    base_labels = sorted(set(labels))
    for n in range(count):
        created = now - rng.randint(DAY_MS, 400 * DAY_MS)
        updated = created + rng.randint(0, now - created)
        priority = priorities[rng.randrange(5)]
        own = base_labels if priority is None else sorted({*base_labels, priority})
        closed = rng.random() < 0.2
        subject, verb, thing = rng.choice(_WORDS), rng.choice(_VERBS), rng.choice(_WORDS)
        title = f"{subject.capitalize()} {verb} {thing} (#{next_iid + n})"
        issue = Issue(
            id=next_id + n,
            iid=next_iid + n,
            project_id=project.id,
            title=title,
            description=f"Seeded requirement {n + 1} of {count}.\n\n- [ ] covered by a test",
            labels=own,
            created=created,
            updated=updated,
            author_id=ALICE_ID,
            state="closed" if closed else "opened",
            closed=updated if closed else None,
            closed_by=ALICE_ID if closed else None,
        )
        issues[issue.id] = issue
        ids.append(issue.id)
        by_iid[issue.iid] = issue.id
    state.next_issue_id = next_id + count
    project.next_iid = next_iid + count
    state.touch()
    return count
