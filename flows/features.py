"""Features for a date range in one as-of pass (backfills, training sets, exports)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from prefect import flow

from config import load_settings, mask_url
from raceday.ratings.features import feature_set_name
from tasks.common import AsTasks
from tasks.features import range_features
from tasks.locks import store_in_use
from tasks.store import prepare_store


@flow(name="features-range", log_prints=False)
def features_range(start: date, end: date) -> dict[str, Any]:
    """Build and store the features of every stored runner dated ``start``..``end`` (in the
    settings' store, held from restores meanwhile: :func:`tasks.locks.store_in_use`)."""
    settings = load_settings()
    run = AsTasks(settings)
    with store_in_use(settings):
        run(prepare_store, settings)
        features: pd.DataFrame = run(range_features, settings, start, end)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "feature_set": feature_set_name(settings.features.people_window_days),
        "races": int(features["race_id"].nunique()),
        "runners": len(features),
        "runners_with_history": int((~features["no_history"]).sum()),
        "database": mask_url(settings.database_url),
    }
