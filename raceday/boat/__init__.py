"""Boat racing (競艇): the official B/K day files, their codes, a simulator that writes them, and
the domain of a boat day (source, point-in-time features, the win model, staking, settlement,
evaluation); docs/BOAT.md.
"""
