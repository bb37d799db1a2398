"""How runs read in the Prefect UI, built in one place: flow-run tags, task-run names and
artifact keys.

- Tags: every flow run carries ``raceday``, ``circuit:<nar|jra|boat>``, ``stage:<pilot|ramp|
  full>`` (the rollout stage) and ``trigger:<schedule|cli|backfill>``, so the UI's filters and
  the automations can select runs by what and why they ran.
- Task runs are named after what they do (``validate-card``, ``validate-results``) and the
  venue they read (``ingest-Urawa``), not Prefect's random suffixes or venue codes.
- Artifacts keep one key each (``daily-report``, ``bet-slip``, ``model-card``, ...): Prefect
  keeps every version of a key, so each has a history across days. A backfill publishes none
  for the days it replays, only its own ``backfill-summary``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Trigger = Literal["schedule", "cli", "backfill"]

DAILY_REPORT: Final = "daily-report"
BET_SLIP: Final = "bet-slip"
MODEL_CARD: Final = "model-card"
ROLLING_METRICS: Final = "rolling-metrics"
VENUES: Final = "venues"
ALERTS: Final = "alerts"
RACE_TIME: Final = "race-time"
BACKFILL_SUMMARY: Final = "backfill-summary"
BACKFILL_FLOWS: Final = frozenset({"backfill", "boat-backfill"})


def run_tags(circuit: str, stage: str, trigger: Trigger) -> list[str]:
    """A flow run's tags: ``["raceday", "circuit:nar", "stage:full", "trigger:cli"]``."""
    return ["raceday", f"circuit:{circuit}", f"stage:{stage}", f"trigger:{trigger}"]


def publishes_artifacts(flow_name: str | None) -> bool:
    """Whether a stage run inside the flow ``flow_name`` publishes its day's artifacts: not
    outside a flow run (None), not in a backfill (a replayed day is history, not the day's)."""
    return flow_name is not None and flow_name not in BACKFILL_FLOWS


def lane_task_run_name(
    venue: str | None, romanised: Mapping[str, str], japanese: Mapping[str, str]
) -> str:
    """A venue lane's task run: ``ingest-Urawa`` (the romanised name; the Japanese one, then
    ``ingest-venue-<code>`` for a venue the reference does not name); ``ingest-day`` for the
    one read of a day without venues."""
    if venue is None:
        return "ingest-day"
    name = romanised.get(venue) or japanese.get(venue)
    return f"ingest-{name}" if name else f"ingest-venue-{venue or 'blank'}"


def key_value_markdown(title: str, values: Mapping[str, object]) -> str:
    """A Markdown artifact's body: a title and one ``| key | value |`` row per entry, nested
    mappings flattened (``evaluation.log_loss``), lists joined, None shown as ``–``."""
    rows: list[tuple[str, object]] = []

    def add(prefix: str, value: object) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                add(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            rows.append((prefix, value))

    add("", values)

    def shown(value: object) -> str:
        if value is None:
            return "–"
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value) or "–"
        return str(value).replace("|", "\\|")

    lines = [f"# {title}", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {shown(value)} |" for key, value in rows]
    return "\n".join(lines) + "\n"
