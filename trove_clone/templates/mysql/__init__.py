"""The mysql datastore's template and validation rules (data)."""
