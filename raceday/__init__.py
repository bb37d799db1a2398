"""raceday: a daily production pipeline for Japanese local horse racing (NAR)."""

__version__ = "0.1.0"
