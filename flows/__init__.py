"""Prefect flows: the order of a race day's stages, typed parameters as the contract."""
