"""Glance with Keystone, as trovestack runs it: seed 000's
``openstack image create mysql-5.5 ... --public < file`` works for the
admin exactly as printed, a member cannot publicize an image (Glance's
default policy), and the image driver reaches Glance as a service user
through the catalog.
"""
import os
import subprocess

import fixtures
from oslo_config import fixture as config_fixture

from trove_clone.conf import CONF
from trove_clone.drivers.image import glance as glance_driver
from trove_clone.drivers import openstack_auth
from trove_clone.tests.functional import base


class GlanceKeystoneTest(base.DeploymentTestCase):
    """The deployment's Glance validates tokens with Keystone."""

    def test_admin_publicizes_as_seed_000(self) -> None:
        image_id = self.upload_public_image('mysql-5.5')
        # Public: a member of another project sees it.
        listed = self.cli(self.alice, 'openstack', 'image', 'list', '-f',
                          'value', '-c', 'ID')
        self.assertIn(image_id, listed.split())

    def test_member_cannot_publicize(self) -> None:
        error = self.cli(self.alice, 'openstack', 'image', 'create',
                         'member-public', '--disk-format', 'qcow2',
                         '--container-format', 'bare', '--public',
                         expect_failure=True)
        self.assertIn('403', error)
        self.assertIn('publicize_image', error)
        # A private image is the member's to make, and not bob's to see.
        image_id = self.cli(self.alice, 'openstack', 'image', 'create',
                            'member-private', '--disk-format', 'qcow2',
                            '--container-format', 'bare', '--private',
                            '-f', 'value', '-c', 'id').strip()
        self.assertNotIn(image_id, self.cli(
            self.bob, 'openstack', 'image', 'list', '-f', 'value', '-c',
            'ID').split())
        # Without a token Glance refuses the request.
        anonymous = subprocess.run(
            [os.path.join(base.BIN, 'openstack'), '--os-auth-type', 'none',
             '--os-endpoint', self.glance.url, 'image', 'list'],
            capture_output=True, text=True, timeout=120)
        self.assertNotEqual(0, anonymous.returncode, anonymous.stdout)
        self.assertRegex(anonymous.stderr, '401|Unauthorized')

    def test_image_driver_uses_the_service_user(self) -> None:
        """[glance] auth_type = keystone: the driver finds and downloads
        an image by its tags with a token of the service user, the
        endpoint taken from the catalog."""
        image_id = self.upload_image('tagged', 'trove', 'h14glance')
        CONF([], project='trove', default_config_files=[])
        conf = self.useFixture(config_fixture.Config(CONF))
        # No usable endpoint in [glance]: the catalog's must be used.
        conf.config(auth_type='keystone', endpoint='http://127.0.0.1:9',
                    group='glance')
        conf.config(auth_url=self.keystone.url, username='admin',
                    password=self.keystone.admin_password,
                    project_name='admin', group='service_credentials')
        openstack_auth.session.cache_clear()
        self.addCleanup(openstack_auth.session.cache_clear)
        driver = glance_driver.GlanceImageDriver()
        self.assertEqual(image_id,
                         driver.find_by_tags(['trove', 'h14glance'])['id'])
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'image')
        driver.download(image_id, path)
        self.assertEqual(os.path.getsize(base.GUEST_IMAGE),
                         os.path.getsize(path))
