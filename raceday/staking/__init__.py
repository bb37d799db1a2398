"""Staking: multi-outcome Kelly, limits, the ledger and settlement, evaluation."""
