"""The sync engine over the GitLab listing: an issue changed while the listing runs comes
again, newer, and is stored once, as it is now."""

from __future__ import annotations

from pathlib import Path

from gitlab_support import Control, TrackerFactory
from test_gitlab_listing import Spy, change, issues_of

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.domain.settings import Settings
from testkase_cli.sandbox.gitlab import GitLabApp
from testkase_cli.services import sync
from testkase_cli.store.repository import Store


def test_an_issue_edited_during_the_listing_is_stored_once_as_it_is_now(
    make_tracker: TrackerFactory, control: Control, app: GitLabApp, tmp_path: Path
) -> None:
    control.call("POST", "/_sandbox/seed", {"count": 445, "seed": 7, "labels": ["testable"]})
    oldest = issues_of(app)[0]
    spy = Spy(app)
    # After the first page (which holds `oldest`): it changes, so the closing walk lists
    # it again, in the same batch of upserts.
    spy.on_listing = lambda n: change(app, oldest, title="Renamed mid-listing") if n == 3 else None
    tracker = make_tracker()
    settings = Settings(
        project="demo",
        connection=ConnectionSettings(
            platform="gitlab", url="http://x", project="demo/web", labels=("testable",)
        ),
    )
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}", "demo")
    report = sync.run(settings, store, tracker, full=True)
    stored = store.catalog.list_requirements()
    assert report.requirements["created"] == 450 == len(stored)
    assert [r.title for r in stored].count("Renamed mid-listing") == 1
