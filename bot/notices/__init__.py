"""Notices: the status record and signals, subscriptions, operators, delivery plans."""
