"""The module drivers shipped with trove_clone (entry points in the
``trove_clone.guestagent.module.drivers`` namespace)."""
