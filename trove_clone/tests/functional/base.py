"""A deployment for functional tests: Glance, Keystone and trove-api."""
import os
import subprocess

import testtools

from trove_clone.localstack import glance as glance_service
from trove_clone.localstack import keystone as keystone_service
from trove_clone.tests.functional import fixtures as trove_fixtures

BIN = trove_fixtures.BIN
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir,
                                     os.pardir, os.pardir))
GUEST_IMAGE = os.path.join(ROOT, 'trove_clone', 'tests', 'functional',
                           'data', 'guest-image.tar.gz')


def cli_env(keystone_url: str, user: dict) -> dict:
    """The environment of ``trove``/``openstack`` run by ``user``
    (``username``, ``password``, ``project_name``) of that Keystone."""
    env = dict(os.environ)
    env.update({
        'OS_AUTH_URL': keystone_url, 'OS_IDENTITY_API_VERSION': '3',
        'OS_USERNAME': user['username'], 'OS_PASSWORD': user['password'],
        'OS_PROJECT_NAME': user['project_name'],
        'OS_USER_DOMAIN_NAME': 'Default',
        'OS_PROJECT_DOMAIN_NAME': 'Default',
        'OS_REGION_NAME': keystone_service.REGION,
        'OS_AUTH_TYPE': 'password'})
    return env


def run_cli(test: testtools.TestCase, env: dict, argv: tuple,
            expect_failure: bool = False, cwd: str | None = None,
            timeout: float = 120) -> str:
    """Run ``trove`` or ``openstack`` (``argv[0]``, from this virtualenv)
    with ``env``; returns stdout, or stderr when it is expected to fail,
    failing ``test`` otherwise."""
    result = subprocess.run([os.path.join(BIN, argv[0])] + list(argv[1:]),
                            env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=timeout)
    if expect_failure:
        test.assertNotEqual(0, result.returncode, result.stdout)
        return result.stderr
    test.assertEqual(0, result.returncode, '%s\n%s%s' % (
        ' '.join(argv), result.stdout, result.stderr))
    return result.stdout


class DeploymentTestCase(testtools.TestCase):
    """Glance, Keystone with two member projects and an admin, and
    trove-api with auth_strategy = keystone on a control DB of
    ``backend``: started once for the class, stopped after it."""

    backend = 'sqlite'
    token_expiration = 3600
    #: The file seeds 000 and 001 upload as the guest image.
    guest_image = GUEST_IMAGE

    @classmethod
    def api_extra_conf(cls) -> str:
        """More of trove.conf's DEFAULT section (a subclass that runs the
        taskmanager and conductor too gives their topics here)."""
        return ''

    @classmethod
    def _use(cls, fixture):
        fixture.setUp()
        cls._class_fixtures.append(fixture)
        return fixture

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls._class_fixtures = []
        try:
            cls._start_deployment()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start_deployment(cls) -> None:
        database = cls._use(trove_fixtures.ControlDatabase(cls.backend))
        cls.keystone = cls._use(keystone_service.KeystoneFixture(
            cls.token_expiration)).keystone
        # Glance with Keystone and its default policy, as trovestack runs
        # it: the admin publicizes images (seed 000).
        glance_user = cls.keystone.create_project_user(
            'service', 'glance', 'glance-pw', role='service')
        cls.glance = cls._use(glance_service.GlanceFixture(keystone_auth={
            'auth_url': cls.keystone.url, 'username': 'glance',
            'password': glance_user['password'],
            'project_name': 'service'})).glance
        cls.keystone.register_service('image', 'glance', cls.glance.url)
        cls.api = cls._use(trove_fixtures.TroveApi(
            database.url, auth_strategy='keystone',
            glance_endpoint=cls.glance.url, keystone_url=cls.keystone.url,
            keystone_password=cls.keystone.admin_password,
            glance_keystone=True, extra_conf=cls.api_extra_conf()))
        cls.keystone.register_service(
            'database', 'trove', cls.api.endpoint + '/v1.0/$(project_id)s')
        cls.alice = cls.keystone.create_project_user(
            'project-a', 'alice', 'alice-pw')
        cls.bob = cls.keystone.create_project_user(
            'project-b', 'bob', 'bob-pw')
        cls.admin = {'username': 'admin', 'project_name': 'admin',
                     'password': cls.keystone.admin_password}

    @classmethod
    def tearDownClass(cls) -> None:
        while cls._class_fixtures:
            cls._class_fixtures.pop().cleanUp()
        super().tearDownClass()

    # --- commands as users type them ------------------------------------

    def cli_env(self, user: dict) -> dict:
        return cli_env(self.keystone.url, user)

    def cli(self, user: dict, *argv: str,
            expect_failure: bool = False) -> str:
        """Run ``trove`` or ``openstack`` as ``user``; returns stdout."""
        return run_cli(self, self.cli_env(user), argv, expect_failure)

    def upload_image(self, name: str, *tags: str) -> str:
        """Seed 001's ``openstack image create`` as the cloud admin;
        returns the image id."""
        argv = ['image', 'create', name, '--private', '--disk-format',
                'qcow2', '--container-format', 'bare', '--file',
                self.guest_image, '--property', 'hw_rng_model=virtio']
        for tag in tags:
            argv += ['--tag', tag]
        return self.cli(self.admin, 'openstack', *argv, '-f', 'value',
                        '-c', 'id').strip()

    def upload_public_image(self, name: str) -> str:
        """Seed 000's ``openstack image create NAME --disk-format qcow2
        --container-format bare --public < FILE`` as the admin, exactly
        as printed; returns the image id."""
        with open(self.guest_image, 'rb') as image_file:
            result = subprocess.run(
                [os.path.join(BIN, 'openstack'), 'image', 'create', name,
                 '--disk-format', 'qcow2', '--container-format', 'bare',
                 '--public'], stdin=image_file, env=self.cli_env(self.admin),
                capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        fields = {}
        for line in result.stdout.splitlines():
            cells = [cell.strip() for cell in line.strip('|').split('|')]
            if len(cells) == 2:
                fields[cells[0]] = cells[1]
        self.assertEqual('public', fields.get('visibility'), result.stdout)
        return fields['id']
