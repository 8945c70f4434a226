"""The annotated example config stays valid."""

from __future__ import annotations

from pathlib import Path

from testkase_cli import config

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_parses() -> None:
    settings = config.load(ROOT / "testkase.example.toml")
    assert settings.project == "web"
    assert settings.connection is not None
    assert settings.connection.platform == "jira"
    assert settings.connection.jql == "labels = testable"
    assert settings.conflict == "newest"
