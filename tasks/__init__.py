"""Prefect tasks: thin wrappers that add retries, timeouts, logging and store IO to raceday/."""
