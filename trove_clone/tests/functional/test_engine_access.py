"""Engines are closed to everyone but their users: an instance of each
engine (Redis, PostgreSQL, MariaDB) made through the API, probed from
another OS user (nobody, through setpriv) and from another process of the
agent's user with the system's own clients. Unauthenticated access is
refused over TCP and over the engine's socket; the engine runs as an OS
user of the server's own (neither root nor the agent's user); its data
and run directories are 0700; the tenant's user made through the API gets
in and reads back what it wrote; a restart keeps all this; deleting the
instance removes the OS user."""
import json
import os
import pwd
import stat
import subprocess
import time

import psycopg
import pymysql
import redis
from troveclient import exceptions as trove_exc

from trove_clone.tests.functional import instances as deployment

WAIT = 240
USER = 'tenant_app'
PASSWORD = 'Tenant-pw-8e1c'
NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups',
          '--']
#: The engine's process name, per datastore.
PROCESS = {'redis': 'redis-server', 'postgresql': 'postgres',
           'mariadb': 'mariadbd'}


def run(argv: list[str], as_nobody: bool) -> str:
    """Run a client; its output and errors together."""
    result = subprocess.run((NOBODY if as_nobody else []) + argv,
                            capture_output=True, text=True, timeout=30,
                            cwd='/', env={'PATH': '/usr/bin:/bin',
                                          'HOME': '/'})
    return '%d %s%s' % (result.returncode, result.stdout, result.stderr)


def processes(pgid: int, name: str) -> list[dict]:
    """{'pid', 'uid', 'groups'} of the processes ``name`` of a group."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as source:
                fields = source.read().rsplit(')', 1)[1].split()
            with open('/proc/%s/status' % entry) as source:
                status = dict(line.rstrip('\n').split(':\t', 1)
                              for line in source if ':\t' in line)
        except OSError:
            continue
        if int(fields[2]) == pgid and status['Name'] == name:
            found.append({'pid': int(entry),
                          'uid': int(status['Uid'].split()[1]),
                          'groups': status.get('Groups', '').split()})
    return found


def unix_sockets(pid: int) -> list[str]:
    """The paths of the Unix sockets process ``pid`` holds."""
    inodes = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            continue
        if target.startswith('socket:['):
            inodes.add(target[8:-1])
    paths = []
    with open('/proc/net/unix') as table:
        next(table)
        for line in table:
            fields = line.split()
            if len(fields) >= 8 and fields[6] in inodes and \
                    fields[7].startswith('/'):
                paths.append(fields[7])
    return paths


class EngineAccessTest(deployment.DeploymentTestCase):

    address_pool = '127.77.211.0/28'
    datastores = ('redis', 'postgresql', 'mariadb')

    def setUp(self) -> None:
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('the engines run as their own OS user only when '
                          'the local backend runs as root')
        self.trove = self.deployment.client()

    # --- helpers ---------------------------------------------------------

    def create(self, datastore: str):
        kwargs = {'volume': {'size': 1}, 'datastore': datastore,
                  'users': [{'name': USER, 'password': PASSWORD}]}
        if datastore != 'redis':
            kwargs['databases'] = [{'name': 'appdb'}]
            kwargs['users'][0]['databases'] = [{'name': 'appdb'}]
        instance = self.trove.instances.create('access-%s' % datastore,
                                               '1', **kwargs)
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        return self.wait_active(instance.id)

    def wait_active(self, instance_id: str):
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.trove.instances.get(instance_id)
            if instance.status in ('ACTIVE', 'HEALTHY'):
                return instance
            if instance.status == 'ERROR':
                self.fail('ERROR: %s' % getattr(instance, 'fault', None))
            if time.monotonic() > deadline:
                self.fail('%s after %d s' % (instance.status, WAIT))
            time.sleep(0.3)

    def server_record(self, instance_id: str) -> dict:
        servers = os.path.join(self.deployment.state, 'local', 'servers')
        for name in os.listdir(servers):
            try:
                with open(os.path.join(servers, name,
                                       'server.json')) as source:
                    record = json.load(source)
            except (OSError, ValueError):
                continue
            if instance_id in json.dumps(record):
                return record
        self.fail('no server of instance %s' % instance_id)

    def engine_processes(self, datastore: str, instance_id: str) -> list:
        record = self.server_record(instance_id)
        found = processes(record['pid'], PROCESS[datastore])
        self.assertTrue(found, 'no %s in the server\'s process group'
                        % PROCESS[datastore])
        return found

    def check_os_user(self, datastore: str, instance_id: str) -> str:
        """The engine runs as the server's own unprivileged user, without
        supplementary groups; returns its name."""
        record = self.server_record(instance_id)
        agent_uid = os.stat('/proc/%d' % record['pid']).st_uid
        names = set()
        for process in self.engine_processes(datastore, instance_id):
            self.assertNotEqual(0, process['uid'])
            self.assertNotEqual(agent_uid, process['uid'])
            self.assertEqual([], process['groups'])
            names.add(pwd.getpwuid(process['uid']).pw_name)
        self.assertEqual({record['engine_user']}, names)
        self.assertTrue(record['engine_user'].startswith('trove-'))
        return record['engine_user']

    def check_private_dirs(self, datastore: str, instance_id: str,
                           user: str) -> None:
        """The data directory (the engine's working directory), its parent
        and the socket directories are 0700 and the engine user's."""
        process = self.engine_processes(datastore, instance_id)[0]
        data = os.readlink('/proc/%d/cwd' % process['pid'])
        directories = {data, os.path.dirname(data)} if \
            datastore != 'redis' else {data}
        directories |= {os.path.dirname(path)
                        for path in unix_sockets(process['pid'])}
        for directory in directories:
            status = os.stat(directory)
            self.assertEqual(0o700, stat.S_IMODE(status.st_mode), directory)
            self.assertEqual(user, pwd.getpwuid(status.st_uid).pw_name,
                             directory)

    def check_user_removed(self, instance_id: str, user: str) -> None:
        self.trove.instances.delete(instance_id)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                self.trove.instances.get(instance_id)
            except trove_exc.NotFound:
                break
            time.sleep(0.3)
        self.assertRaises(KeyError, pwd.getpwnam, user)

    # --- the engines -----------------------------------------------------

    def test_redis(self) -> None:
        instance = self.create('redis')
        address = instance.ip[0]
        tenant = redis.Redis(host=address, username=USER, password=PASSWORD,
                             socket_timeout=10)
        self.addCleanup(tenant.close)
        tenant.set('written', 'by the tenant')
        for restarted in (False, True):
            for as_nobody in (True, False):
                output = run(['redis-cli', '-h', address, 'PING'],
                             as_nobody)
                self.assertNotIn('PONG', output)
                self.assertIn('NOAUTH', output)
                output = run(['redis-cli', '-h', address, '--user',
                              'default', '--pass', '', '--no-auth-warning',
                              'PING'], as_nobody)
                self.assertNotIn('PONG', output)
            anonymous = redis.Redis(host=address, socket_timeout=10)
            self.addCleanup(anonymous.close)
            self.assertRaises(redis.AuthenticationError, anonymous.get,
                              'written')
            self.assertEqual(b'by the tenant', tenant.get('written'))
            user = self.check_os_user('redis', instance.id)
            self.check_private_dirs('redis', instance.id, user)
            if not restarted:
                self.trove.instances.restart(instance.id)
                time.sleep(1)
                self.wait_active(instance.id)
        self.check_user_removed(instance.id, user)

    def test_postgresql(self) -> None:
        instance = self.create('postgresql')
        address = instance.ip[0]
        with psycopg.connect(host=address, user=USER, password=PASSWORD,
                             dbname='appdb', connect_timeout=10,
                             autocommit=True) as tenant:
            tenant.execute('CREATE TABLE items (value text)')
            tenant.execute("INSERT INTO items VALUES ('by the tenant')")
        for as_nobody in (True, False):
            for role in ('postgres', USER):
                output = run(['psql', '-w', '-h', address, '-U', role, '-d',
                              'postgres', '-c', 'SELECT 1'], as_nobody)
                self.assertFalse(output.startswith('0 '), output)
                self.assertIn('password', output)
        process = self.engine_processes('postgresql', instance.id)[0]
        sockets = unix_sockets(process['pid'])
        self.assertTrue(sockets)
        for path in sockets:
            output = run(['psql', '-w', '-h', os.path.dirname(path), '-U',
                          'postgres', '-d', 'postgres', '-c', 'SELECT 1'],
                         True)
            self.assertIn('Permission denied', output)
        user = self.check_os_user('postgresql', instance.id)
        self.check_private_dirs('postgresql', instance.id, user)
        # The engine's own OS user, given the socket, still needs the
        # superuser's map: a tenant role cannot log in there by peer.
        for path in sockets:
            output = run(['setpriv', '--reuid=%s' % user, '--regid=%s' % user,
                          '--clear-groups', '--', 'psql', '-w', '-h',
                          os.path.dirname(path), '-U', USER, '-d', 'appdb',
                          '-c', 'SELECT 1'], False)
            self.assertFalse(output.startswith('0 '), output)
        with psycopg.connect(host=address, user=USER, password=PASSWORD,
                             dbname='appdb', connect_timeout=10) as tenant:
            self.assertEqual([('by the tenant',)], tenant.execute(
                'SELECT value FROM items').fetchall())
        self.check_user_removed(instance.id, user)

    def test_mariadb(self) -> None:
        instance = self.create('mariadb')
        address = instance.ip[0]
        tenant = pymysql.connect(host=address, user=USER, password=PASSWORD,
                                 database='appdb', connect_timeout=10,
                                 autocommit=True)
        with tenant, tenant.cursor() as cursor:
            cursor.execute('CREATE TABLE items (value varchar(64))')
            cursor.execute("INSERT INTO items VALUES ('by the tenant')")
        for as_nobody in (True, False):
            for user in ('root', '', 'mysql', 'mariadb.sys'):
                output = run(['mariadb', '--no-defaults', '-h', address,
                              '-u', user, '--skip-password', '-e',
                              'SELECT 1'], as_nobody)
                self.assertFalse(output.startswith('0 '), output)
        process = self.engine_processes('mariadb', instance.id)[0]
        sockets = unix_sockets(process['pid'])
        self.assertTrue(sockets)
        engine_user = self.check_os_user('mariadb', instance.id)
        for path in sockets:
            for user in ('root', '', 'mysql', engine_user):
                output = run(['mariadb', '--no-defaults', '-S', path, '-u',
                              user, '--skip-password', '-e', 'SELECT 1'],
                             True)
                self.assertFalse(output.startswith('0 '), output)
            # The engine's own OS user reaches the socket, but has no
            # account there (mariadb-install-db's is dropped).
            output = run(['setpriv', '--reuid=%s' % engine_user,
                          '--regid=%s' % engine_user, '--clear-groups', '--',
                          'mariadb', '--no-defaults', '-S', path, '-u',
                          engine_user, '--skip-password', '-e', 'SELECT 1'],
                         False)
            self.assertIn('Access denied', output)
        self.check_private_dirs('mariadb', instance.id, engine_user)
        tenant = pymysql.connect(host=address, user=USER, password=PASSWORD,
                                 database='appdb', connect_timeout=10)
        with tenant, tenant.cursor() as cursor:
            cursor.execute('SELECT value FROM items')
            self.assertEqual((('by the tenant',),), cursor.fetchall())
        self.check_user_removed(instance.id, engine_user)
