"""Settings for fault tests: small simulated days, no warm-up, retries 0.1 s apart."""

from __future__ import annotations

import pytest


def use_quick_retries(monkeypatch: pytest.MonkeyPatch, races_per_day: int) -> None:
    """Small simulated days, no warm-up, retries 0.1 s apart (the policy, not its delays)."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(races_per_day))
    monkeypatch.setenv("RACEDAY_RETRY__DELAYS_S", "[0.1, 0.1, 0.1]")
    monkeypatch.setenv("RACEDAY_RETRY__JITTER_FACTOR", "0")
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
