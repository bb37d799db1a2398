"""The decoded tables of each module's ``simulated`` days, shared by the simulator's tests."""

from __future__ import annotations

import pandas as pd
import pytest

from raceday import codec
from raceday.simulate.days import SimulatedDays


@pytest.fixture(scope="module")
def races(simulated: SimulatedDays) -> pd.DataFrame:
    """The races of the module's simulated days, decoded."""
    return codec.decode_races(simulated.raw.nvd_ra)


@pytest.fixture(scope="module")
def runners(simulated: SimulatedDays) -> pd.DataFrame:
    """The runners of the module's simulated days, decoded."""
    return codec.decode_runners(simulated.raw.nvd_se)
