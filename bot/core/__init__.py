"""Core: the contract, engine, feature registry, steps, stores and Thai text handling."""
