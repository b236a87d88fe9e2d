"""Guest images of real engine versions: built, uploaded to the project's
Glance with tags, found by tag as Trove finds them (newest first), and
their engines run and report the version the image records."""
import io
import json
import os
import subprocess
import sys
import tarfile
import time

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers.image import glance as glance_driver
from trove_clone.localstack import glance as glance_service
from trove_clone.tests.functional import base

BUILDER = os.path.join(base.ROOT, 'tools', 'build-guest-image')
IMAGES = (('postgresql', '15', r'\(PostgreSQL\) 15\.'),
          ('postgresql', '16', r'\(PostgreSQL\) 16\.'),
          ('redis', '6.2', r'v=6\.2\.'),
          ('redis', '7.0', r'v=7\.0\.'))


class GuestImageTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        CONF([], project='trove', default_config_files=[])
        self.glance = self.useFixture(glance_service.GlanceFixture()).glance
        self.useFixture(config_fixture.Config(CONF)).config(
            endpoint=self.glance.url, group='glance')
        self.driver = glance_driver.GlanceImageDriver()
        self.workdir = self.useFixture(fixtures.TempDir()).path

    def build(self, datastore: str, version: str) -> str:
        result = subprocess.run(
            [sys.executable, BUILDER, datastore, version, '--output',
             self.workdir], capture_output=True, text=True, timeout=900)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout.split(':')[0]

    def upload(self, path: str, name: str, *tags: str) -> str:
        image = self.driver.client.images.create(
            name=name, disk_format='qcow2', container_format='bare',
            visibility='private', tags=list(tags))
        with open(path, 'rb') as data:
            self.driver.client.images.upload(image['id'], data)
        return image['id']

    def unpack(self, image_id: str) -> tuple[str, dict]:
        root = os.path.join(self.workdir, image_id)
        data = b''.join(self.driver.client.images.data(image_id))
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(root, filter='tar')
        with open(os.path.join(root, 'manifest.json')) as manifest:
            return root, json.load(manifest)

    def test_build_upload_find_and_run(self) -> None:
        ids = {}
        for datastore, version, pattern in IMAGES:
            path = self.build(datastore, version)
            ids[(datastore, version)] = self.upload(
                path, '%s-%s' % (datastore, version), 'trove', datastore)
            time.sleep(1.1)  # Glance orders by created_at (seconds)
        # The newest image with all the tags wins.
        self.assertEqual(ids[('postgresql', '16')],
                         self.driver.find_by_tags(['trove',
                                                   'postgresql'])['id'])
        self.assertEqual(ids[('redis', '7.0')],
                         self.driver.find_by_tags(['trove', 'redis'])['id'])
        for datastore, version, pattern in IMAGES:
            root, manifest = self.unpack(ids[(datastore, version)])
            self.assertEqual(version, manifest['version'])
            server = manifest['programs'].get('postgres') or \
                manifest['programs']['server']
            if not os.path.isabs(server):
                server = os.path.join(root, server)
            output = subprocess.run([server, '--version'],
                                    capture_output=True, text=True,
                                    timeout=30).stdout
            self.assertRegex(output, pattern)
            self.assertIn(manifest['engine_version'], output)
        # A newer upload with the same tags is picked for new instances.
        newer = self.upload(self.build('postgresql', '15'),
                            'postgresql-15-rebuilt', 'trove', 'postgresql')
        self.assertEqual(newer, self.driver.find_by_tags(
            ['trove', 'postgresql'])['id'])
        self.assertRaises(exception.ImageNotFound, self.driver.find_by_tags,
                          ['trove', 'mongodb'])
