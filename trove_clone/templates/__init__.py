"""Per-datastore data read by path: config.template, validation-rules.json.

Each datastore's directory is a package only so that packaging ships its
files as package data (setuptools warns about data directories that are
importable but not listed as packages).
"""
