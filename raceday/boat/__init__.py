"""Boat racing (競艇): the official B/K day files, their codes, and a simulator that writes them.

The data layer only: nothing of the pipeline (store, validation, model, staking) reads these yet
(docs/BOAT.md, "next").
"""
