"""A test server process is configured through PICTOGRAPH_* variables only
(tests/servers.py settings_environment): what it reads back must be what the test chose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.settings import Settings
from tests.conftest import SUITE_RATE_LIMITS, make_settings
from tests.servers import settings_environment


def test_settings_read_back_from_their_environment_are_the_same_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given settings with values of every kind: URLs, numbers, flags, a secret, a list, and
    # the suite's rate limits (nested dataclasses)
    chosen = make_settings(
        "redis://127.0.0.1:1/0",
        mongodb_url="mongodb://127.0.0.1:2",
        broadcast_url="redis://127.0.0.1:1/0",
        worker_id=7,
        fanout_in_server=True,
        secret_key="a-secret-of-its-own",
        allowed_origins=["https://example.com"],
        request_deadline_seconds=2.5,
    )
    assert chosen.rate_limits == SUITE_RATE_LIMITS
    # When a process reads its settings from that environment alone
    monkeypatch.chdir(tmp_path)  # no .env file there
    for name in [name for name in os.environ if name.startswith("PICTOGRAPH_")]:
        monkeypatch.delenv(name)
    for name, value in settings_environment(chosen).items():
        monkeypatch.setenv(name, value)
    # Then it has the chosen settings
    assert Settings() == chosen
