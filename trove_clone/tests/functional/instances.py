"""A complete deployment for instance tests: Glance with real guest images,
trove-api (noauth), trove-taskmanager and trove-conductor on their own RPC
topics, the local backend with its own state, volumes and addresses.

The python-troveclient of these tests talks to trove-api with keystoneauth's
admin_token plugin and a ``user:project`` token, which noauth accepts.
"""
import json
import os
import signal
import secrets
import subprocess
import sys
import tarfile
import tempfile
import time

import fixtures
import testtools
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from troveclient.v1 import client as trove_client
import sqlalchemy as sa

from trove_clone.common import context as trove_context
from trove_clone.common import secrets as trove_secrets
from trove_clone.drivers.compute import local as local_compute
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.localstack import glance as glance_service
from trove_clone.localstack import keystone as keystone_service
from trove_clone.tests.functional import base
from trove_clone.tests.functional import fixtures as trove_fixtures

BUILDER = os.path.join(base.ROOT, 'tools', 'build-guest-image')
TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
#: (datastore, version, manager) the tests register.
VERSIONS = {'redis': ('redis', '7.0', 'redis'),
            'postgresql': ('postgresql', '16', 'postgresql'),
            'mariadb': ('mariadb', '10.11', 'mariadb'),
            'mysql': ('mariadb', '10.11', 'mysql')}


class Deployment(fixtures.Fixture):
    """Everything an instance needs; ``client(project)`` gives a real
    python-troveclient for a member of ``project``. ``extra_conf`` goes
    into trove.conf's DEFAULT section (it may open sections of its own);
    ``volume_pool_gb`` is the local backend's total volume space."""

    def __init__(self, address_pool: str, extra_conf: str = '',
                 datastores: tuple = ('redis',),
                 transport_url: str = TRANSPORT_URL,
                 keystone: bool = False, volume_pool_gb: int = 20) -> None:
        super().__init__()
        self.volume_pool_gb = volume_pool_gb
        self.use_keystone = keystone
        self.keystone = None
        self.transport_url = transport_url
        self.address_pool = address_pool
        self.extra_conf = extra_conf
        self.datastores = datastores

    def _setUp(self) -> None:
        self.glance = self.useFixture(glance_service.GlanceFixture()).glance
        self.state = self.useFixture(fixtures.TempDir()).path
        self.addCleanup(trove_fixtures.keep_logs, self.state)
        os.chmod(self.state, 0o755)
        suffix = secrets.token_hex(4)
        self.topics = {'taskmanager_queue': 'trove-taskmanager-%s' % suffix,
                       'conductor_queue': 'trove-conductor-%s' % suffix,
                       'guest_topic_prefix': 'guestagent-%s' % suffix}
        conf = '\n'.join([
            'transport_url = %s' % self.transport_url,
            'taskmanager_queue = trove-taskmanager-%s' % suffix,
            'conductor_queue = trove-conductor-%s' % suffix,
            'guest_topic_prefix = guestagent-%s' % suffix,
            'agent_heartbeat_time = 2', 'agent_heartbeat_expiry = 8',
            'server_watch_interval = 2', 'usage_timeout = 120',
            'default_datastore = redis', 'http_get_rate = 100000',
            self.extra_conf,
            '[local]', 'state_dir = %s/local' % self.state,
            'address_pool = %s' % self.address_pool,
            'volume_pool_gb = %d' % self.volume_pool_gb,
            '[DEFAULT]'])
        database = self.useFixture(trove_fixtures.ControlDatabase('sqlite'))
        auth = {}
        if self.use_keystone:
            self.keystone = self.useFixture(
                keystone_service.KeystoneFixture()).keystone
            auth = {'auth_strategy': 'keystone',
                    'keystone_url': self.keystone.url,
                    'keystone_password': self.keystone.admin_password}
        self.api = self.useFixture(trove_fixtures.TroveApi(
            database.url, glance_endpoint=self.glance.url, extra_conf=conf,
            **auth))
        if self.keystone is not None:
            self.keystone.register_service(
                'database', 'trove',
                self.api.endpoint + '/v1.0/$(project_id)s')
        self.daemons = {
            name: self.useFixture(trove_fixtures.Daemon(
                name, self.api.conf_path, self.api.state))
            for name in ('trove-taskmanager', 'trove-conductor')}
        self.addCleanup(self._nothing_left)
        self.images = {}
        self.versions = {ds: VERSIONS[ds][1] for ds in self.datastores}
        for datastore in self.datastores:
            self.register(datastore)

    def register(self, datastore: str, version: str | None = None,
                 default: bool = True) -> str:
        """Build, upload and register ``version`` of ``datastore`` (the
        one in VERSIONS by default) as the seeds do; returns the image."""
        engine, default_version, manager = VERSIONS[datastore]
        version = version or default_version
        image_id = self.images.get((engine, version))
        if image_id is None:
            image_id = self.image(engine, version)
            self.images[(engine, version)] = image_id
        self.api.manage('datastore_update', datastore, '')
        self.api.manage('datastore_version_update', datastore, version,
                        manager, image_id, '', '1')
        if default:
            self.api.manage('datastore_update', datastore, version)
        self.api.manage('db_load_datastore_config_parameters', datastore,
                        version, os.path.join(
                            base.ROOT, 'trove_clone', 'templates', datastore,
                            'validation-rules.json'))
        return image_id

    def image(self, engine: str, version: str) -> str:
        result = subprocess.run(
            [sys.executable, BUILDER, engine, version, '--output',
             os.path.join(self.state, 'built')], capture_output=True,
            text=True, timeout=900)
        if result.returncode:
            raise RuntimeError(result.stderr)
        return self.upload(result.stdout.split(':')[0],
                           '%s-%s' % (engine, version), engine)

    def upload(self, path: str, name: str, *tags: str) -> str:
        """Upload an image archive to Glance; returns its id."""
        argv = [os.path.join(trove_fixtures.BIN, 'openstack'),
                '--os-auth-type', 'none', '--os-endpoint', self.glance.url,
                'image', 'create', name, '--disk-format', 'qcow2',
                '--container-format', 'bare', '--file', path, '--tag',
                'trove']
        for tag in tags:
            argv += ['--tag', tag]
        output = subprocess.run(argv + ['-f', 'value', '-c', 'id'],
                                capture_output=True, text=True,
                                timeout=300)
        if output.returncode:
            raise RuntimeError(output.stderr)
        return output.stdout.strip()

    def broken_image(self, engine: str, version: str) -> str:
        """An image of ``engine`` whose server prints an error and exits;
        returns its Glance id."""
        work = tempfile.mkdtemp(dir=self.state)
        built = subprocess.run(
            [sys.executable, BUILDER, engine, version, '--output', work],
            capture_output=True, text=True, timeout=600,
            check=True).stdout.split(':')[0]
        root = os.path.join(work, 'root')
        with tarfile.open(built) as archive:
            archive.extractall(root, filter='tar')
        script = os.path.join(root, 'broken-server')
        with open(script, 'w') as program:
            program.write('#!/bin/sh\necho "FATAL broken engine: cannot '
                          'start" >&2\nexit 1\n')
        os.chmod(script, 0o755)
        with open(os.path.join(root, 'manifest.json')) as source:
            manifest = json.load(source)
        manifest['programs']['server'] = 'broken-server'
        with open(os.path.join(root, 'manifest.json'), 'w') as target:
            json.dump(manifest, target)
        path = os.path.join(work, 'broken.tar.gz')
        with tarfile.open(path, 'w:gz') as archive:
            for name in os.listdir(root):
                archive.add(os.path.join(root, name), name)
        return self.upload(path, '%s-broken' % engine)

    def client(self, project: str = 'demo', user: str = 'alice'):
        """The real python-troveclient, as ``user`` of ``project``
        (the user ``admin`` is an administrator); with Keystone, always
        as Keystone's admin in its admin project."""
        if self.keystone is not None:
            return trove_client.Client(
                session=self.keystone.session(), region_name=(
                    keystone_service.REGION))
        token = '%s:%s' % (user, project)
        auth = token_endpoint.Token('%s/v1.0/%s' % (self.api.endpoint,
                                                    project), token)
        return trove_client.Client(session=ks_session.Session(auth=auth))

    def delete_and_wait(self, instance_id: str, timeout: float = 120
                        ) -> None:
        """Delete an instance (whatever its state) and wait until it is
        gone; for test cleanups."""
        trove = self.client(user='admin')
        try:
            trove.instances.reset_status(instance_id)
            trove.instances.delete(instance_id)
        except Exception:  # noqa: B902 - gone already, or being deleted
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                trove.instances.get(instance_id)
            except Exception:  # noqa: B902 - NotFound: it is gone
                return
            time.sleep(0.3)

    def _nothing_left(self) -> None:
        """Cleanup: no server process or volume of ours survives."""
        servers = os.path.join(self.state, 'local', 'servers')
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            left = [name for name in os.listdir(servers)
                    if name != '.lock'] if os.path.isdir(servers) else []
            if not left:
                return
            time.sleep(0.5)
        # Stop what a failed test left, by the PIDs in the records.
        for name in left:
            record = os.path.join(servers, name, 'server.json')
            try:
                with open(record) as source:
                    server = json.load(source)
            except (OSError, ValueError):
                continue
            try:
                if server.get('pid'):
                    os.killpg(server['pid'], signal.SIGKILL)
            except OSError:
                pass
            # Nor its engine's OS user.
            local_compute.remove_engine_user(server.get('engine_user'))
        raise AssertionError('Servers left behind: %s' % left)


class DeploymentTestCase(testtools.TestCase):
    """Tests sharing one Deployment per class: ``address_pool`` and
    ``datastores`` (or ``datastore``) say what to start, ``extra_conf``
    and ``volume_pool_gb`` how (see Deployment); ``prepare_deployment``
    may register more versions."""

    address_pool = ''
    datastores: tuple = ()
    datastore = ''
    extra_conf = ''
    volume_pool_gb = 20

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.deployment = Deployment(
            cls.address_pool,
            datastores=cls.datastores or ((cls.datastore,) if cls.datastore
                                          else ()),
            extra_conf=cls.extra_conf, volume_pool_gb=cls.volume_pool_gb)
        try:
            cls.deployment.setUp()
            cls.prepare_deployment()
        except BaseException:
            cls.deployment.cleanUp()
            raise

    @classmethod
    def prepare_deployment(cls) -> None:
        """Called once the deployment runs."""

    @classmethod
    def tearDownClass(cls) -> None:
        cls.deployment.cleanUp()
        super().tearDownClass()


def wait_for_guest(database_url: str, instance_id: str, since: float,
                   timeout: float = 90) -> None:
    """The instance's guest agent consumes from a restarted broker (it
    answers a ping) and reports through it (a heartbeat sent after
    ``since``, epoch seconds, is recorded); AssertionError otherwise.

    Each daemon reconnects on its own back-off (up to 30 s between
    tries): a call cast before the guest's listener is back waits out
    agent_call_high_timeout (180 s), its message dropped by the new
    broker. Needs CONF set up for the deployment's broker and topics (as
    test_instance_faults.BrokerRestartTest.wait_for_daemons does).
    """
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            wrapped = connection.execute(sa.text(
                'SELECT encrypted_key FROM instances WHERE id = :id'),
                {'id': instance_id}).scalar_one()
        key = trove_secrets.unwrap_instance_key(wrapped) if wrapped else None
        guest = guest_rpcapi.GuestAPI(instance_id, timeout=3, key=key)
        context = trove_context.admin_context()
        deadline = time.monotonic() + timeout
        while True:
            try:
                guest.ping(context)
                break
            except Exception:  # noqa: B902 - retried until deadline
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        while True:
            with engine.connect() as connection:
                sent = connection.execute(sa.text(
                    'SELECT last_sent FROM service_statuses WHERE '
                    'instance_id = :id'), {'id': instance_id}).scalar_one()
            if sent is not None and sent > since:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    'No heartbeat of %s through the restarted broker '
                    'within %d s' % (instance_id, timeout))
            time.sleep(0.5)
    finally:
        engine.dispose()
