"""Backup storage: where backup streams are kept (see ``base.py``)."""
