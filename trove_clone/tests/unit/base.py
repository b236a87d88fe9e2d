"""Base classes of the unit tests: a fresh control DB and fake drivers."""
import atexit
import os
import shutil
import tempfile

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import policy
from trove_clone.common import secrets
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import models
from trove_clone import drivers
from trove_clone.services import datastores as datastore_service

_DB_DIR = tempfile.mkdtemp(prefix='trove-clone-unit-')
atexit.register(shutil.rmtree, _DB_DIR, True)
_DB_URL = 'sqlite:///%s' % os.path.join(_DB_DIR, 'trove.sqlite')
_schema_ready = False


class FakeImageDriver:
    """Images known by id, each with tags and a creation time."""

    def __init__(self) -> None:
        self.images: dict[str, dict] = {}

    def add(self, image_id: str, tags=(), created_at='2026-01-01T00:00:00Z',
            status='active') -> dict:
        self.images[image_id] = {'id': image_id, 'name': image_id,
                                 'tags': list(tags), 'status': status,
                                 'created_at': created_at, 'checksum': ''}
        return self.images[image_id]

    def get(self, image_id: str) -> dict:
        if image_id not in self.images:
            raise exception.ImageNotFound(uuid=image_id)
        return self.images[image_id]

    def find_by_tags(self, tags) -> dict:
        matching = [image for image in self.images.values()
                    if image['status'] == 'active'
                    and set(tags) <= set(image['tags'])]
        if not matching:
            raise exception.ImageNotFound(uuid='with tags %s' % ','.join(tags))
        return max(matching, key=lambda image: image['created_at'])


class TestCase(testtools.TestCase):
    """A test with its own empty control database (SQLite, per process)."""

    def setUp(self) -> None:
        super().setUp()
        global _schema_ready
        self.useFixture(fixtures.NestedTempfile())
        CONF([], project='trove', default_config_files=[])
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(connection=_DB_URL, group='database')
        self.conf.config(auth_strategy='noauth')
        # The deployment's own key-wrapping secret, in a file of this test.
        self.conf.config(inst_rpc_key_file=os.path.join(
            tempfile.mkdtemp(), secrets.RPC_KEY_FILE_NAME))
        secrets.ensure_rpc_key()
        if not _schema_ready:
            models.Base.metadata.create_all(db_api.get_engine())
            _schema_ready = True
        self._empty_tables()
        datastore_service.invalidate_cache()
        policy.reset()
        self.addCleanup(policy.reset)
        self.images = FakeImageDriver()
        real_get = drivers.get
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.drivers.get',
            lambda kind: self.images if kind == 'image' else real_get(kind)))
        self.context = trove_context.admin_context()

    @staticmethod
    def _empty_tables() -> None:
        engine = db_api.get_engine()
        with engine.begin() as connection:
            for table in reversed(models.Base.metadata.sorted_tables):
                connection.execute(table.delete())
