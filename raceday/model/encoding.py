"""How the win model's scorer reads the venue: a name the settings and the model share, kept
free of the data libraries (the settings are read before any of them is imported)."""

from __future__ import annotations

from typing import Literal

# "one-hot": a 0/1 column per venue of the training window (every one a histogram per tree
# node); "categorical": one column of venue codes that the trees split into sets of venues (the
# booster's native categorical splits: a venue the window never saw is read as missing, as a
# blank one is).
VenueEncoding = Literal["one-hot", "categorical"]
