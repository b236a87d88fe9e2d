"""The redis datastore's template and validation rules (data)."""
