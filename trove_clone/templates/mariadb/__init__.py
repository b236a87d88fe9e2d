"""The mariadb datastore's template and validation rules (data)."""
