"""The win model: conditional logit, market blend, registry logic and evaluation."""
