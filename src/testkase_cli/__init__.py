"""testkase: test management at the terminal, in sync with Jira and GitLab."""

__version__ = "0.1.0"
