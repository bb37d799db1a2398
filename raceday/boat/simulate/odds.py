"""The win-odds timeline (``boat_odds.csv``): a morning snapshot, snapshots 60, 30, 15, 10, 5 and
2 minutes before each race's deadline, and the final odds. The official downloads carry no pre-race
odds; here the later the snapshot, the closer the public's view to the final odds (late money is
better informed): each snapshot is the final view plus noise that shrinks to none at the deadline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import pandas as pd

from raceday.boat.simulate.config import MORNING_SNAPSHOT_HOUR, ODDS_SNAPSHOTS
from raceday.boat.simulate.payouts import softmax
from raceday.boat.simulate.race import SimulatedRace

ODDS_COLUMNS: Final = {
    "race_id": "string", "boat": "Int64", "snapshot": "string",
    "published_at": "datetime64[ns]", "win_odds": "Float64",
}  # fmt: skip


def win_odds(q: float, takeout: float) -> float:
    """Win odds for a win-pool share ``q``: the payout per yen, floored to 0.1, at least 1.0."""
    return max(1.0, math.floor((1 - takeout) / q * 10 + 1e-9) / 10)


def published_at(deadline_at: datetime, minutes_before: int | None) -> datetime:
    """When a snapshot is published: the morning one at 08:00, the others before the deadline."""
    if minutes_before is None:
        return deadline_at.replace(hour=MORNING_SNAPSHOT_HOUR, minute=0)
    return deadline_at - timedelta(minutes=minutes_before)


def odds_timeline(
    races: Sequence[SimulatedRace], rng: np.random.Generator, takeout: float
) -> pd.DataFrame:
    """Every race's snapshots: one row per race, boat with odds (not withdrawn) and snapshot."""
    rows = []
    for simulated in races:
        if simulated.race["status"] == "cancelled":
            continue
        boats = sorted(simulated.final_q)
        final_logits = np.log([simulated.final_q[b] for b in boats])
        for name, minutes, noise_sd in ODDS_SNAPSHOTS:
            q = softmax(final_logits + rng.normal(0, noise_sd, len(boats)))
            when = published_at(simulated.race["deadline_at"], minutes)
            rows += [
                {"race_id": simulated.race["race_id"], "boat": boat, "snapshot": name,
                 "published_at": when, "win_odds": win_odds(float(share), takeout)}
                for boat, share in zip(boats, q, strict=True)
            ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(ODDS_COLUMNS))
    return frame.astype(ODDS_COLUMNS)
