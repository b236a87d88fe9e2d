"""The quick start as a user runs it: ``tools/trovestack kick-start redis``,
then the real ``openstack database`` commands with the openrc it writes,
a connection to the instance as the user created with ``--users``, a
second kick-start that starts nothing, and ``tools/trovestack stop``.

The deployment has its own state directory, free ports, an address pool
and RPC topics of its own, so it cannot disturb another run on this
machine.
"""
import ipaddress
import json
import os
import random
import secrets
import subprocess
import time

import fixtures
import redis
import testtools

from trove_clone.common import processes
from trove_clone.tests.functional import base
from trove_clone.tests.functional import fixtures as trove_fixtures

TROVESTACK = os.path.join(base.ROOT, 'tools', 'trovestack')
#: The instances take their addresses from one /28 of this network, picked
#: at random so that two runs of this test rarely share one.
ADDRESS_NETWORK = '127.77.236.0/24'
SERVICES = {'keystone', 'glance', 'trove-api', 'trove-taskmanager',
            'trove-conductor', 'swift-proxy', 'swift-account',
            'swift-container', 'swift-object'}
WAIT = 300


def free_ports(count: int) -> list[int]:
    """``count`` different free loopback ports."""
    ports: list[int] = []
    while len(ports) < count:
        port = trove_fixtures.free_port()
        if port not in ports:
            ports.append(port)
    return ports


class TroveStackTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.deleted: set[str] = set()
        # The engines of other datastores run as their system users.
        os.chmod(self.state, 0o755)
        api, keystone, glance, *swift = free_ports(7)
        self.pool = random.choice(list(ipaddress.ip_network(
            ADDRESS_NETWORK).subnets(new_prefix=28)))
        self.env = {name: value for name, value in os.environ.items()
                    if not name.startswith('OS_') and name != 'PYTHON'}
        self.env.update({
            'TROVE_CLONE_STATE': self.state,
            'TROVE_CLONE_VENV': os.path.dirname(trove_fixtures.BIN),
            'TROVE_CLONE_API_PORT': str(api),
            'TROVE_CLONE_KEYSTONE_PORT': str(keystone),
            'TROVE_CLONE_GLANCE_PORT': str(glance),
            'TROVE_CLONE_SWIFT_PORT': str(swift[0]),
            'TROVE_CLONE_SWIFT_ACCOUNT_PORT': str(swift[1]),
            'TROVE_CLONE_SWIFT_CONTAINER_PORT': str(swift[2]),
            'TROVE_CLONE_SWIFT_OBJECT_PORT': str(swift[3]),
            'TROVE_CLONE_ADDRESS_POOL': str(self.pool),
            'TROVE_CLONE_TOPIC_SUFFIX': secrets.token_hex(4),
            'TROVE_CLONE_LOCAL_STATE': os.path.join(self.state, 'local')})

    # --- helpers ---------------------------------------------------------

    def trovestack(self, *argv: str) -> str:
        """Run tools/trovestack; returns its output."""
        result = subprocess.run([TROVESTACK] + list(argv), env=self.env,
                                capture_output=True, text=True,
                                timeout=1200)
        self.assertEqual(0, result.returncode, 'trovestack %s:\n%s%s%s' % (
            ' '.join(argv), result.stdout, result.stderr, self._logs()))
        return result.stdout

    def _logs(self) -> str:
        """The end of the daemons' logs, for a failure message."""
        text = ''
        logs = os.path.join(self.state, 'logs')
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, name), errors='replace') as log:
                text += '\n--- %s\n%s' % (name, log.read()[-1500:])
        return text

    def recorded(self) -> dict[str, int]:
        """name -> PID of what trovestack recorded."""
        pids = os.path.join(self.state, 'pids')
        recorded = {}
        for name in os.listdir(pids) if os.path.isdir(pids) else []:
            with open(os.path.join(pids, name)) as pid_file:
                recorded[name] = int(pid_file.read())
        return recorded

    def openrc_env(self, *args: str) -> dict[str, str]:
        """The environment after ``source openrc [ARGS]`` (the demo user,
        ``admin``: the admin)."""
        openrc = os.path.join(self.state, 'openrc')
        result = subprocess.run(
            ['bash', '-c', '. "$0" "$@" >/dev/null && env -0', openrc,
             *args],
            env=self.env, capture_output=True, text=True, timeout=30,
            check=True)
        return dict(item.split('=', 1) for item in
                    result.stdout.split('\0') if '=' in item)

    def cli(self, env: dict[str, str], *argv: str,
            check: bool = True) -> subprocess.CompletedProcess:
        """A command as typed after sourcing the openrc."""
        result = subprocess.run(list(argv), env=env, capture_output=True,
                                text=True, timeout=180)
        if check:
            self.assertEqual(0, result.returncode, '%s\n%s%s' % (
                ' '.join(argv), result.stdout, result.stderr))
        return result

    def show(self, env: dict[str, str], instance_id: str) -> dict | None:
        """``openstack database instance show``, or None when gone."""
        result = self.cli(env, 'openstack', 'database', 'instance', 'show',
                          instance_id, '-f', 'json', check=False)
        if result.returncode:
            self.assertRegex(result.stderr, 'No instance with|not found')
            return None
        return json.loads(result.stdout)

    def wait_active(self, env: dict[str, str], instance_id: str) -> dict:
        deadline = time.monotonic() + WAIT
        while True:
            shown = self.show(env, instance_id)
            self.assertIsNotNone(shown)
            if shown['status'] == 'ACTIVE':
                return shown
            if shown['status'] == 'ERROR':
                self.fail('Instance went to ERROR: %s\n%s'
                          % (shown, self._logs()))
            if time.monotonic() > deadline:
                self.fail('Instance is %s after %d s\n%s'
                          % (shown['status'], WAIT, self._logs()))
            time.sleep(1)

    def delete_instance(self, env: dict[str, str], instance_id: str) -> None:
        """Delete the instance unless gone; wait until it is gone."""
        if self.show(env, instance_id) is None:
            self.deleted.add(instance_id)
            return
        self.cli(env, 'openstack', 'database', 'instance', 'delete',
                 instance_id)
        deadline = time.monotonic() + WAIT
        while self.show(env, instance_id) is not None:
            if time.monotonic() > deadline:
                self.fail('Instance %s still exists after %d s'
                          % (instance_id, WAIT))
            time.sleep(1)
        self.deleted.add(instance_id)

    def delete_left(self, env: dict[str, str], instance_id: str) -> None:
        """Cleanup: delete the instance a failed test left."""
        if instance_id not in self.deleted:
            self.delete_instance(env, instance_id)

    # --- the quick start -------------------------------------------------

    def test_install_and_int_test_groups(self) -> None:
        """Seed 000's ``./trovestack install`` and its int-tests groups:
        a group of features not built here is a clear error."""
        output = self.trovestack('install')
        self.assertIn('trovestack: installed', output)
        self.assertEqual({}, self.recorded())
        # Cluster root (Trove's cluster_root_actions) has no test: a
        # clear error. (The cluster group runs test_clusters.)
        result = subprocess.run([TROVESTACK, 'int-tests',
                                 '--group=cluster_root_actions'],
                                env=self.env,
                                capture_output=True, text=True, timeout=300)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn("no functional test is in group "
                      "'cluster_root_actions'",
                      result.stderr)
        self.assertIn('redis_supported', result.stderr)

    def test_kick_start_instance_restart_stop(self) -> None:
        self.addCleanup(self.trovestack, 'stop')
        output = self.trovestack('kick-start', 'redis')
        self.assertIn('image trove-guest-redis-7.0: uploaded to Glance',
                      output)
        self.assertIn('openstack database instance create db1 --flavor 1 '
                      '--size 1 --datastore redis --datastore-version 7.0 '
                      '--users app:app-password', output)
        pids = self.recorded()
        self.assertEqual(SERVICES, set(pids))
        # Each step is shown with its time.
        self.assertRegex(output, r'(?m)^\[ *\d+\.\ds\] keystone: started on ')
        self.assertRegex(output, r'(?m)^\[ *\d+\.\ds\] kick-start done$')
        for daemon in ('trove-api', 'trove-taskmanager', 'trove-conductor'):
            self.assertTrue(os.path.exists(os.path.join(
                self.state, 'logs', daemon + '.log')), daemon)

        # Random passwords, kept 0600 with trove.conf, the openrc and the
        # key files, and printed where they are.
        credentials = os.path.join(self.state, 'credentials')
        self.assertIn(credentials, output)
        for name in ('credentials', 'trove.conf', 'openrc', 'trove.sqlite',
                     'instance-rpc.key', 'module.key'):
            path = os.path.join(self.state, name)
            self.assertEqual(0o600, os.stat(path).st_mode & 0o777, name)
        with open(credentials) as source:
            passwords = dict(line.strip().split('=', 1) for line in source
                             if '=' in line)
        self.assertEqual({'KEYSTONE_ADMIN_PASSWORD', 'TROVE_SERVICE_PASSWORD',
                          'DEMO_PASSWORD', 'GLANCE_SERVICE_PASSWORD',
                          'SWIFT_SERVICE_PASSWORD'}, set(passwords))
        self.assertEqual(5, len(set(passwords.values())))
        self.assertNotIn('secret', passwords.values())
        env = self.openrc_env()
        self.assertEqual('demo', env['OS_USERNAME'])
        self.assertEqual(passwords['DEMO_PASSWORD'], env['OS_PASSWORD'])
        # Seed 000's trove-manage without --config-file: the openrc says
        # which configuration.
        self.assertIn('up to date', self.cli(env, 'trove-manage',
                                             'db_version').stdout)
        # Seed 000, step 2, as the admin: Glance has Keystone and its
        # default policy, so the admin publicizes an image; the demo
        # member may not.
        admin = self.openrc_env('admin')
        self.assertEqual('admin', admin['OS_USERNAME'])
        with open(base.GUEST_IMAGE, 'rb') as image_file:
            created = subprocess.run(
                ['openstack', 'image', 'create', 'mysql-5.5', '--disk-format',
                 'qcow2', '--container-format', 'bare', '--public'],
                stdin=image_file, env=admin, capture_output=True, text=True,
                timeout=180)
        self.assertEqual(0, created.returncode, created.stderr)
        self.assertRegex(created.stdout, r'\| visibility +\| public +\|')
        refused = self.cli(env, 'openstack', 'image', 'create', 'demo-5.5',
                           '--disk-format', 'qcow2', '--container-format',
                           'bare', '--public', check=False)
        self.assertNotEqual(0, refused.returncode)
        self.assertIn('publicize_image', refused.stderr)
        # Swift, through the catalog, in the demo project's account; its
        # servers log to the deployment's logs.
        self.cli(env, 'openstack', 'container', 'create', 'demo_backups')
        self.assertIn('demo_backups', self.cli(
            env, 'openstack', 'container', 'list', '-f', 'value').stdout)
        self.assertTrue(os.path.exists(os.path.join(
            self.state, 'logs', 'swift-proxy.log')))
        # Seed 004: glance-manage db ... against this deployment's Glance.
        version = self.cli(env, 'glance-manage', 'db', 'version').stdout
        self.assertRegex(version.strip().splitlines()[-1],
                         r'^\d{4}_\d_contract\d+$')
        for command in ('sync', 'expand', 'migrate', 'contract'):
            self.cli(env, 'glance-manage', 'db', command)
        self.assertEqual(version, self.cli(env, 'glance-manage', 'db',
                                           'version').stdout)
        flavors = json.loads(self.cli(
            env, 'openstack', 'database', 'flavor', 'list', '-f',
            'json').stdout)
        self.assertIn('1', [str(flavor['ID']) for flavor in flavors])
        created = json.loads(self.cli(
            env, 'openstack', 'database', 'instance', 'create', 'kick1',
            '--flavor', '1', '--size', '1', '--datastore', 'redis',
            '--datastore-version', '7.0', '--users', 'app:app-password',
            '-f', 'json').stdout)
        self.addCleanup(self.delete_left, env, created['id'])
        shown = self.wait_active(env, created['id'])
        # Instances carry the region of the deployment's Keystone.
        self.assertEqual('RegionOne', shown['region'])
        address = shown['ip']
        if isinstance(address, list):
            address = address[0]
        self.assertIn(ipaddress.ip_address(address), self.pool)
        connection = redis.Redis(host=address, port=6379, username='app',
                                 password='app-password', socket_timeout=5)
        try:
            connection.set('greeting', 'hello')
            self.assertEqual(b'hello', connection.get('greeting'))
        finally:
            connection.close()

        # Running it twice is safe, starts nothing and keeps the passwords.
        again = self.trovestack('kick-start', 'redis')
        self.assertEqual(pids, self.recorded())
        self.assertEqual(env['OS_PASSWORD'], self.openrc_env()['OS_PASSWORD'])
        self.assertNotIn('started', again)
        self.assertIn('image trove-guest-redis-7.0: in Glance', again)
        self.assertEqual(created['id'], json.loads(self.cli(
            env, 'openstack', 'database', 'instance', 'list', '-f',
            'json').stdout)[0]['ID'])

        self.delete_instance(env, created['id'])
        stopped = self.trovestack('stop')
        for name, pid in pids.items():
            self.assertIn('%s: stopped' % name, stopped)
            self.assertFalse(processes.alive(pid), name)
        self.assertEqual({}, self.recorded())
