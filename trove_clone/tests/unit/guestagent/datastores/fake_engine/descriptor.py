"""The descriptor of the fake engine: the ``fakedb`` manager, lifecycle
only."""
from trove_clone.common import engines

ENGINE = engines.Descriptor(
    name='fake_engine',
    managers=('fakedb',),
    port=7777,
    versions=('1.0',),
    capabilities={
        'lifecycle': 'trove_clone.tests.unit.guestagent.datastores.'
                     'fake_engine.lifecycle:FakeLifecycle',
    },
    template_dir='fake_engine',
)
