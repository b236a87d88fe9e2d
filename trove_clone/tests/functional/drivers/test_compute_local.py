"""The local compute driver with real images, volumes and guest agents:
boot, reboot, rebuild onto another engine version keeping the volume and
the address, resize, delete leaving nothing behind."""
import atexit
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

import fixtures
from glanceclient import client as glance_client
import redis
from oslo_config import fixture as config_fixture
import testtools

from trove_clone.common import config
from trove_clone.common import context
from trove_clone.common import exception
from trove_clone.common import rpc
from trove_clone.conf import CONF
from trove_clone.db import migration
from trove_clone import drivers
from trove_clone.drivers.compute import local as local_compute
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.localstack import glance as glance_service
from trove_clone.tests.functional import base
from trove_clone.tests.unit.drivers import contracts

_DB_DIR = tempfile.mkdtemp(prefix='trove-compute-test-')
atexit.register(shutil.rmtree, _DB_DIR, True)
_DB_URL = 'sqlite:///%s/trove.sqlite' % _DB_DIR
BUILDER = os.path.join(base.ROOT, 'tools', 'build-guest-image')
TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'


class LocalComputeTest(contracts.ComputeContract, testtools.TestCase):

    flavor_ids = ('1', '2')

    @classmethod
    def setUpClass(cls) -> None:
        # One Glance and one upload of each image for the class: the
        # tests only read them (each test's servers and volumes are its
        # own).
        super().setUpClass()
        cls._glance_fixture = glance_service.GlanceFixture()
        cls._glance_fixture.setUp()
        try:
            cls.glance = cls._glance_fixture.glance
            cls._built = tempfile.mkdtemp(prefix='trove-compute-images-')
            cls._image_ids: dict = {}
            cls.class_image('redis', '6.2')
            cls.class_image('redis', '7.0')
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(getattr(cls, '_built', ''), ignore_errors=True)
        cls._glance_fixture.cleanUp()
        super().tearDownClass()

    @classmethod
    def class_image(cls, datastore: str, version: str) -> str:
        """The id of the class's Glance image of ``datastore``
        ``version``, built and uploaded the first time it is asked for."""
        key = (datastore, version)
        if key not in cls._image_ids:
            result = subprocess.run(
                [sys.executable, BUILDER, datastore, version, '--output',
                 cls._built], capture_output=True, text=True, timeout=900)
            if result.returncode:
                raise AssertionError(result.stderr)
            client = glance_client.Client('2', endpoint=cls.glance.url,
                                          token='trove')
            image = client.images.create(
                name='%s-%s' % (datastore, version), disk_format='qcow2',
                container_format='bare', tags=['trove', datastore])
            with open(result.stdout.split(':')[0], 'rb') as data:
                client.images.upload(image['id'], data)
            cls._image_ids[key] = image['id']
        return cls._image_ids[key]

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        CONF([], project='trove', default_config_files=[])
        self.state = self.useFixture(fixtures.TempDir()).path
        # The engines run as the servers' own OS users, who must pass
        # through the state directory to their volumes (mkdtemp makes it
        # 0700).
        os.chmod(self.state, 0o711)
        self.prefix = 'guestagent-test-%s' % secrets.token_hex(4)
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(endpoint=self.glance.url, group='glance')
        conf.config(state_dir=self.state, volume_pool_gb=4,
                    address_pool='127.77.250.0/29', group='local')
        conf.config(transport_url=TRANSPORT_URL,
                    guest_topic_prefix=self.prefix)
        # Flavors come from trove.conf and the control database; the
        # database engine lives as long as the process, so does its file.
        conf.config(connection=_DB_URL, group='database')
        migration.sync()
        drivers.reset()
        self.addCleanup(drivers.reset)
        self.addCleanup(rpc.cleanup)
        self.compute = drivers.get('compute')
        self.volumes = drivers.get('volume')
        self.addCleanup(self._nothing_left)
        self.images = {version: self.image('redis', version)
                       for version in ('6.2', '7.0')}
        self.image_ids = (self.images['6.2'], self.images['7.0'])
        self.context = context.admin_context()

    def image(self, datastore: str, version: str) -> str:
        return self.class_image(datastore, version)

    def contract_files(self) -> dict:
        return self.guest_files()

    def guest_files(self) -> dict:
        return {local_compute.GUEST_CONF: (
            '[DEFAULT]\ntransport_url = %s\nguest_topic_prefix = %s\n'
            'log_file = guest.log\n' % (TRANSPORT_URL, self.prefix))}

    def _nothing_left(self) -> None:
        for server in self.compute.list():
            self.compute.delete(server['id'])
        for volume in self.volumes.list():
            self.volumes.delete(volume['id'])
        self.assertEqual([], [name for name in os.listdir(
            os.path.join(self.state, 'servers')) if name != '.lock'])
        self.assertNotIn(self.state, open('/proc/mounts').read())

    def ping(self, server_id: str, deadline: float = 30) -> dict:
        api = guest_rpcapi.GuestAPI(server_id, timeout=5)
        give_up = time.monotonic() + deadline
        while True:
            try:
                return api.ping(self.context)
            except Exception:  # noqa: B902 - retried until the deadline
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.3)

    def engine_version(self, server: dict) -> str:
        with open(os.path.join(server['root'], 'manifest.json')) as source:
            manifest = json.load(source)
        program = manifest['programs']['server']
        if not os.path.isabs(program):
            program = os.path.join(server['root'], program)
        output = subprocess.run([program, '--version'], capture_output=True,
                                text=True, timeout=30).stdout
        self.assertIn(manifest['engine_version'], output)
        return manifest['engine_version']

    def test_server_lifecycle(self) -> None:
        volume = self.volumes.create(1, 'data')
        server = self.compute.create('redis-1', self.images['6.2'], '1',
                                     volume['id'], self.guest_files(),
                                     user_data='#cloud-config\n')
        with open(os.path.join(server['root'],
                               local_compute.USER_DATA)) as user_data:
            self.assertEqual('#cloud-config\n', user_data.read())
        # Another driver (a restarted taskmanager) finds the server.
        self.assertEqual(server['addresses'],
                         local_compute.LocalComputeDriver().get(
                             server['id'])['addresses'])
        self.assertEqual('ACTIVE', server['status'])
        address = server['addresses'][0]['address']
        self.assertTrue(address.startswith('127.77.250.'))
        self.assertEqual(server['id'], self.ping(server['id'])[
            'instance_id'])
        self.assertTrue(self.engine_version(server).startswith('6.2.'))
        mountpoint = self.volumes.get(volume['id'])['mountpoint']
        with open(os.path.join(mountpoint, 'dump.rdb'), 'w') as data:
            data.write('keep me')
        rebooted = self.compute.reboot(server['id'])
        self.assertNotEqual(server['pid'], rebooted['pid'])
        self.ping(server['id'])
        rebuilt = self.compute.rebuild(server['id'], self.images['7.0'])
        self.assertEqual(address, rebuilt['addresses'][0]['address'])
        self.assertEqual(self.images['7.0'], rebuilt['image_id'])
        self.assertTrue(self.engine_version(rebuilt).startswith('7.0.'))
        with open(os.path.join(mountpoint, 'dump.rdb')) as data:
            self.assertEqual('keep me', data.read())
        self.ping(server['id'])
        self.assertLimits(server['id'], 512, 1)
        resized = self.compute.resize(server['id'], '3')
        self.assertEqual('3', resized['flavor_id'])
        self.assertLimits(server['id'], 2048, 2)
        with open(os.path.join(resized['root'],
                               local_compute.GUEST_INFO)) as info:
            self.assertIn('guest_ram_mb = 2048', info.read())
        pid = resized['pid']
        self.compute.delete(server['id'])
        self.assertFalse(local_compute.process_alive(pid))
        self.assertRaises(exception.ServerNotFound, self.compute.get,
                          server['id'])
        self.assertEqual('available', self.volumes.get(volume['id'])[
            'status'])

    def assertLimits(self, server_id: str, ram_mb: int, vcpus: int) -> None:
        """The agent's process is under the flavor's cgroup v1 limits."""
        record = self.compute._load(server_id)
        memory = [group for group in record['cgroups']
                  if '/memory/' in group]
        self.assertEqual(1, len(memory), record['cgroups'])
        with open(os.path.join(memory[0], 'memory.limit_in_bytes')) as limit:
            self.assertEqual(ram_mb * 1024 * 1024, int(limit.read()))
        with open(os.path.join(memory[0], 'cgroup.procs')) as procs:
            self.assertIn(str(record['pid']), procs.read().split())
        cpu = [group for group in record['cgroups'] if '/cpu/' in group]
        with open(os.path.join(cpu[0], 'cpu.cfs_quota_us')) as quota:
            self.assertEqual(vcpus * 100000, int(quota.read()))

    def test_every_image_boots_and_reports_its_engine(self) -> None:
        self.images.update({version: self.image('postgresql', version)
                            for version in ('15', '16')})
        expected = {'6.2': '6.2.', '7.0': '7.0.', '15': '15.', '16': '16.'}
        for version, image_id in self.images.items():
            server = self.compute.create('boot-%s' % version, image_id, '1',
                                         files=self.guest_files())
            self.assertTrue(self.engine_version(server).startswith(
                expected[version]), version)
            self.ping(server['id'])
            self.compute.delete(server['id'])

    def wait_status(self, api, wanted: str, deadline: float = 60) -> dict:
        give_up = time.monotonic() + deadline
        while True:
            status = api.get_status(self.context)
            if status['status'] == wanted or time.monotonic() > give_up:
                return status
            time.sleep(0.2)

    def test_guest_prepares_its_engine(self) -> None:
        volume = self.volumes.create(1, 'data')
        server = self.compute.create('redis-db', self.images['7.0'], '1',
                                     volume['id'], self.guest_files())
        self.ping(server['id'])
        api = guest_rpcapi.GuestAPI(server['id'], timeout=10)
        self.assertEqual('new', api.get_status(self.context)['status'])
        api.prepare(self.context, 'redis')
        self.assertEqual({'status': 'healthy', 'error': None},
                         self.wait_status(api, 'healthy'))
        address = server['addresses'][0]['address']
        # The engine is closed to anonymous clients; the agent's own ACL
        # user gets in with the password only the agent's files hold.
        anonymous = redis.Redis(host=address, port=6379, socket_timeout=5)
        self.assertRaises(redis.exceptions.AuthenticationError,
                          anonymous.ping)
        mountpoint = self.volumes.get(volume['id'])['mountpoint']
        with open(os.path.join(mountpoint, 'agent',
                               'redis-password')) as secret:
            password = secret.read().strip()
        client = redis.Redis(host=address, port=6379, socket_timeout=5,
                             username='os_admin', password=password)
        client.set('k', 'v')
        api.restart(self.context)
        self.assertEqual(b'v', client.get('k'))
        api.stop_db(self.context)
        self.assertEqual('shutdown', api.get_status(self.context)['status'])
        self.compute.delete(server['id'])

    def test_guest_reports_an_unknown_manager(self) -> None:
        server = self.compute.create('nosuch-db', self.images['7.0'], '1',
                                     files=self.guest_files())
        self.ping(server['id'])
        api = guest_rpcapi.GuestAPI(server['id'], timeout=10)
        api.prepare(self.context, 'couchdb')
        status = self.wait_status(api, 'failed to spawn')
        self.assertEqual('failed to spawn', status['status'])
        self.assertIn('couchdb', status['error'])

    def test_bad_input_leaves_nothing(self) -> None:
        self.assertRaises(exception.ImageNotFound, self.compute.create,
                          'x', '00000000-0000-0000-0000-000000000000', '1')
        self.assertRaises(exception.FlavorNotFound, self.compute.create,
                          'x', self.images['6.2'], '999')
        self.assertEqual([], self.compute.list())
        servers = [self.compute.create('s%d' % n, self.images['6.2'], '1',
                                       files=self.guest_files())
                   for n in range(6)]
        self.assertEqual(6, len({s['addresses'][0]['address']
                                 for s in servers}))
        self.assertRaises(exception.AddressPoolExhausted,
                          self.compute.create, 'one-too-many',
                          self.images['6.2'], '1')
        self.assertEqual(6, len(self.compute.list()))
        self.compute.delete(servers[0]['id'])
        again = self.compute.create('reuse', self.images['6.2'], '1',
                                    files=self.guest_files())
        self.assertEqual(servers[0]['addresses'], again['addresses'])
