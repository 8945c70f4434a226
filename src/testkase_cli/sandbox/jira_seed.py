"""The Jira emulator's seeded content: the default project's requirements and bulk data.

Descriptions are written once as small block lists and rendered in the flavour's native
rich-text form (ADF for Cloud, wiki markup for Server), the way a real instance stores them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from testkase_cli.sandbox.jira_store import (
    OTHER_PROJECT,
    OTHER_USER,
    STATUSES,
    JiraState,
)

Block = tuple[str, Any]

REQUIREMENTS: list[tuple[str, str, str, tuple[str, ...], list[Block]]] = [
    (
        "Customer can reset a forgotten password",
        "In Progress",
        "High",
        ("testable",),
        [
            ("p", "A customer who forgot the password asks for a reset link by e-mail."),
            ("h", "Acceptance criteria"),
            (
                "ul",
                [
                    "The link expires after **30 minutes**",
                    "Old sessions are signed out",
                    "The form never reveals whether an address is registered",
                ],
            ),
        ],
    ),
    (
        "Checkout shows the delivery date before payment",
        "To Do",
        "Medium",
        ("testable",),
        [
            ("p", "The order summary states the earliest delivery date for the chosen address."),
            ("ul", ["Dates follow the shop's locale", "Weekend cut-off is 12:00 on Friday"]),
        ],
    ),
    (
        "Search results can be filtered by price range",
        "Done",
        "Medium",
        (),
        [("p", "Two sliders bound the price; results update without reloading the page.")],
    ),
    (
        "Guest checkout without an account",
        "In Review",
        "Highest",
        ("testable",),
        [
            ("p", "Shoppers can pay without registering; an account can be created afterwards."),
            ("h", "Out of scope"),
            ("ul", ["Saved payment methods", "Order history for guests"]),
        ],
    ),
    (
        "Product page lists stock per warehouse",
        "To Do",
        "Low",
        (),
        [("p", "Show the number of items in each warehouse, or `sold out`.")],
    ),
    (
        "Invoices are e-mailed as PDF after shipping",
        "In Progress",
        "Medium",
        (),
        [
            ("p", "The invoice is attached as a PDF named after the order number."),
            ("code", "invoice-<order>.pdf"),
        ],
    ),
    (
        "Basket keeps items for 30 days",
        "Done",
        "Low",
        (),
        [("p", "Signed-in customers find their basket on any device for 30 days.")],
    ),
    (
        "Legacy coupon codes are retired",
        "Won't Do",
        "Lowest",
        (),
        [("p", "Superseded by the new promotions engine; kept for the record.")],
    ),
    (
        "Two-factor sign-in with an authenticator app",
        "To Do",
        "High",
        ("testable", "security"),
        [
            ("p", "Customers can protect the account with a TOTP app."),
            ("h", "Acceptance criteria"),
            ("ul", ["Recovery codes are shown once", "Six wrong codes lock sign-in for 15 min"]),
        ],
    ),
    (
        "Order confirmation page is accessible",
        "In Progress",
        "Medium",
        (),
        [("p", "WCAG 2.1 AA: headings, contrast and screen-reader labels on the page.")],
    ),
    (
        "Returns can be requested online within 14 days",
        "To Do",
        "Medium",
        (),
        [("p", "A return form per order line, with a printable label.")],
    ),
    (
        "Prices include VAT for EU addresses",
        "In Review",
        "High",
        (),
        [("p", "VAT is computed from the delivery country and shown on every page.")],
    ),
]

OTHER_ISSUES = [
    ("Upgrade the payment SDK", "To Do", "Medium"),
    ("Rotate the CDN certificates", "Done", "High"),
]

SERVER_PRIORITY = {
    "Highest": "Blocker",
    "High": "Critical",
    "Medium": "Major",
    "Low": "Minor",
    "Lowest": "Minor",
}

BULK_TITLES = (
    "Customer can export the order history",
    "Shipping costs are shown per parcel",
    "Admin can disable a payment method",
    "Wishlist is shared by link",
    "Newsletter sign-up needs double opt-in",
    "Product reviews are moderated",
    "Gift cards can be combined with coupons",
    "Store locator shows opening hours",
)


def _inline(text: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for index, part in enumerate(text.split("**")):
        if not part:
            continue
        segments = part.split("`")
        for seg_index, segment in enumerate(segments):
            if not segment:
                continue
            node: dict[str, Any] = {"type": "text", "text": segment}
            marks = []
            if index % 2:
                marks.append({"type": "strong"})
            if seg_index % 2:
                marks.append({"type": "code"})
            if marks:
                node["marks"] = marks
            nodes.append(node)
    return nodes


def to_adf(blocks: list[Block]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for kind, value in blocks:
        if kind == "p":
            content.append({"type": "paragraph", "content": _inline(value)})
        elif kind == "h":
            content.append({"type": "heading", "attrs": {"level": 2}, "content": _inline(value)})
        elif kind == "code":
            content.append(
                {"type": "codeBlock", "attrs": {}, "content": [{"type": "text", "text": value}]}
            )
        else:
            items = [
                {"type": "listItem", "content": [{"type": "paragraph", "content": _inline(item)}]}
                for item in value
            ]
            content.append({"type": "bulletList", "content": items})
    return {"type": "doc", "version": 1, "content": content}


def _wiki_inline(text: str) -> str:
    out = []
    for index, part in enumerate(text.split("**")):
        part = "".join(f"{{{{{seg}}}}}" if i % 2 else seg for i, seg in enumerate(part.split("`")))
        out.append(f"*{part}*" if index % 2 else part)
    return "".join(out)


def to_wiki(blocks: list[Block]) -> str:
    parts: list[str] = []
    for kind, value in blocks:
        if kind == "p":
            parts.append(_wiki_inline(value))
        elif kind == "h":
            parts.append(f"h2. {_wiki_inline(value)}")
        elif kind == "code":
            parts.append(f"{{code}}\n{value}\n{{code}}")
        else:
            parts.append("\n".join(f"* {_wiki_inline(item)}" for item in value))
    return "\n\n".join(parts)


def render(flavor: str, blocks: list[Block]) -> Any:
    return to_adf(blocks) if flavor == "cloud" else to_wiki(blocks)


def seed_default(state: JiraState, seed: int) -> None:
    """About a dozen requirements in PROJ and two issues in OTHER, deterministic per seed."""
    rng = random.Random(seed)
    now = state.clock.now_ms()
    rows = list(REQUIREMENTS)
    rng.shuffle(rows)
    ages = sorted((rng.randrange(2, 60 * 24) * 3_600_000 for _ in rows), reverse=True)
    for (title, status, priority, labels, blocks), age in zip(rows, ages, strict=True):
        created = now - age - rng.randrange(30) * 86_400_000
        state.create(
            summary=title,
            description=render(state.flavor, blocks),
            status=status,
            priority=priority if state.flavor == "cloud" else SERVER_PRIORITY[priority],
            labels=labels,
            reporter=OTHER_USER.account_id,
            created=created,
            updated=now - age,
        )
    for title, status, priority in OTHER_ISSUES:
        state.create(
            summary=title,
            project=OTHER_PROJECT,
            description=render(state.flavor, [("p", title + ".")]),
            status=status,
            priority=priority if state.flavor == "cloud" else SERVER_PRIORITY[priority],
            issuetype="Task",
            reporter=OTHER_USER.account_id,
            created=now - 40 * 86_400_000,
            updated=now - 3 * 86_400_000,
        )


def bulk_seed(state: JiraState, count: int, seed: int, labels: Sequence[str]) -> None:
    """`count` requirements in the default project; descriptions are shared objects."""
    rng = random.Random(seed)
    descriptions = [
        render(
            state.flavor,
            [("p", f"{title}."), ("ul", ["Covered by the regression suite", "Owner: shop team"])],
        )
        for title in BULK_TITLES
    ]
    statuses = list(STATUSES)
    now = state.clock.now_ms()
    span = 90 * 86_400_000
    for _ in range(count):
        updated = now - rng.randrange(span)
        state.create(
            summary=f"{rng.choice(BULK_TITLES)} ({state.next_id})",
            description=rng.choice(descriptions),
            status=rng.choice(statuses),
            priority=rng.choice(state.priorities),
            labels=labels,
            reporter=OTHER_USER.account_id,
            created=updated - rng.randrange(span),
            updated=updated,
        )
