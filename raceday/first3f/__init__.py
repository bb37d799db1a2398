"""The first 3F (前半3F) of every runner: seed 003's layers, their fitting and evaluation."""
