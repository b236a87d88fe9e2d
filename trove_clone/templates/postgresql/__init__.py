"""The postgresql datastore's template and validation rules (data)."""
