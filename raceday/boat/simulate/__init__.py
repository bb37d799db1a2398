"""A boat racing simulator: days of B and K text and a win-odds timeline, deterministic per seed.

``config`` (knobs and calibration figures), ``population`` (racers, motors, boats), ``race``
(one day's races, outcomes and results), ``payouts`` (pools and payouts), ``odds`` (the win-odds
timeline), ``text`` (B/K text) and ``days`` (a date range, written to a directory).
"""
