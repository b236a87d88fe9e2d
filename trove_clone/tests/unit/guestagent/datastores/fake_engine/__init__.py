"""A fake engine package for the tests: it implements only the lifecycle
capability. The tests register it through the
``trove_clone.guestagent.datastores`` entry point namespace
(:class:`trove_clone.tests.unit.guestagent.datastores.test_engines.
FakeEnginePackage`)."""
