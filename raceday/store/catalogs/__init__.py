"""The store's catalogs: every read and write a stage makes, one module per concern.

- :mod:`~raceday.store.catalogs.races`: races, runners, bet-time odds and results
- :mod:`~raceday.store.catalogs.learned_versions`: reference times and first-3F models by version
- :mod:`~raceday.store.catalogs.ratings`: per-runner first-3F estimates, indexes, track variants
  and features
- :mod:`~raceday.store.catalogs.predictions`: win probabilities per model version
- :mod:`~raceday.store.catalogs.bets`: bets, their settlement and the ledger's days
- :mod:`~raceday.store.catalogs.quality`: quarantined rows and validation results
- :mod:`~raceday.store.catalogs.performance`: the performance record, race scores, rolling
  windows and calibration
- :mod:`~raceday.store.catalogs.alerts`: alerts raised and their delivery
- :mod:`~raceday.store.catalogs.decisions`: races decided at race time, each once
- :mod:`~raceday.store.catalogs.runs`: run control: stage runs, the day's run lock, backfill marks
- :mod:`~raceday.store.catalogs.monitoring`: what the monitors and the daily report read

Each write runs in the caller's transaction (``engine.begin()``) and replaces rows by natural
key, so re-running any stage leaves the store exactly as one run would.
"""
