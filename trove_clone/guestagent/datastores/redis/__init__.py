"""The redis engine package: see descriptor.py for what it implements."""
