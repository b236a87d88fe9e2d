"""Data of the functional tests (a guest image archive)."""
