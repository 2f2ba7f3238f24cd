"""The cash ledger: entries, quick-entry grammar, ledger and directory, exports."""
