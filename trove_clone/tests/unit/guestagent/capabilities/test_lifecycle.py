"""Who may reach an engine: what the lifecycles generate (no trust, no
anonymous or default user, the agent's own credentials) and the OS user
the engine runs as."""
import hashlib
import os
import stat
import subprocess
import sys
import threading
import time
from unittest import mock

import fixtures
import testtools

from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.datastores.mariadb import lifecycle as mariadb
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql
from trove_clone.guestagent.datastores.redis import lifecycle as redis
from trove_clone.guestagent.datastores import templating


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


class _WorkDir(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        self.data_dir = os.path.join(self.work, 'volume', 'data')
        os.makedirs(os.path.dirname(self.data_dir))

    def make(self, cls, os_user: str | None = None):
        return cls('/nonexistent/root', '192.0.2.7', self.data_dir, {}, 512,
                   os_user=os_user)


class TemplatesTest(testtools.TestCase):

    def test_no_trust_in_any_template(self) -> None:
        for directory, _dirs, files in os.walk(templating.TEMPLATES_DIR):
            for name in files:
                with open(os.path.join(directory, name)) as source:
                    self.assertNotRegex(source.read(), r'\btrust\b', name)

    def test_redis_protected_mode_stays_on(self) -> None:
        engine = redis.RedisLifecycle('/r', '192.0.2.7', '/v/data', {}, 512)
        text = templating.render('redis', engine._context())
        self.assertIn('\nprotected-mode yes\n', text)
        self.assertNotIn('protected-mode no', text)
        # Users come from the ACL file only (the agent secures it).
        self.assertNotRegex(text, r'(?m)^user ')
        self.assertNotRegex(text, r'(?m)^requirepass')

    def test_postgresql_passwords_are_scram_and_the_socket_private(self
                                                                   ) -> None:
        engine = postgresql.PostgresqlLifecycle('/r', '192.0.2.7', '/v/data',
                                                {}, 512)
        text = templating.render('postgresql', engine._context())
        self.assertRegex(text, r'(?m)^password_encryption = scram-sha-256$')
        self.assertRegex(text, r'(?m)^unix_socket_permissions = 0700$')
        self.assertRegex(text, r"(?m)^unix_socket_directories = "
                               r"'/v/data/run'$")


class RedisAclTest(testtools.TestCase):

    def test_default_user_is_disabled(self) -> None:
        text = redis.secured_acl(
            'user default on nopass sanitize-payload ~* &* +@all\n'
            'user app on #abc ~* &* +@all\n', 'agent-pw')
        lines = text.splitlines()
        default = [line for line in lines if line.startswith('user default')]
        self.assertEqual(['user default off resetpass resetkeys '
                          'resetchannels -@all'], default)
        self.assertNotIn('nopass', text)
        self.assertIn('user app on #abc ~* &* +@all', lines)

    def test_agent_user_has_only_the_agents_password(self) -> None:
        text = redis.secured_acl(
            'user os_admin on nopass ~* +@all\n', 'agent-pw')
        digest = hashlib.sha256(b'agent-pw').hexdigest()
        agent = [line for line in text.splitlines()
                 if line.startswith('user os_admin ')]
        self.assertEqual(['user os_admin on #%s ~* &* +@all' % digest],
                         agent)

    def test_empty_file(self) -> None:
        lines = redis.secured_acl('', 'x').splitlines()
        self.assertEqual(2, len(lines))
        self.assertTrue(lines[0].startswith('user default off '))


class RedisStopTest(_WorkDir):

    def test_a_dropped_sigterm_is_sent_again(self) -> None:
        # As Redis writing its first append-only file: the first SIGTERM
        # is ignored, the next one ends it.
        engine = self.make(redis.RedisLifecycle)
        ready = os.path.join(self.work, 'ready')
        engine.process = subprocess.Popen([sys.executable, '-c', (
            'import signal, sys, time\n'
            'seen = []\n'
            'def term(*args):\n'
            '    if seen: sys.exit(0)\n'
            '    seen.append(1)\n'
            'signal.signal(signal.SIGTERM, term)\n'
            'open(%r, "w").close()\n'
            'while True: time.sleep(0.05)\n') % ready])
        self.addCleanup(engine.process.kill)
        while not os.path.exists(ready):
            time.sleep(0.01)
        started = time.monotonic()
        engine.stop(timeout=10)
        self.assertEqual(0, engine.process.returncode)
        self.assertLess(time.monotonic() - started, 5)
        # A stop asked for: the exit is not reported as a crash (without
        # it the agent showed a restarted Redis SHUTDOWN for good).
        self.assertTrue(engine._stopping)


class RedisCredentialsTest(_WorkDir):

    def test_client_logs_in_as_the_agent(self) -> None:
        engine = self.make(redis.RedisLifecycle)
        client = engine.client()
        self.addCleanup(client.close)
        kwargs = client.connection_pool.connection_kwargs
        self.assertEqual(redis.AGENT_USER, kwargs['username'])
        self.assertEqual(engine.agent_password, kwargs['password'])
        self.assertGreaterEqual(len(kwargs['password']), 32)

    def test_password_file_is_private_and_stable(self) -> None:
        engine = self.make(redis.RedisLifecycle)
        password = engine.agent_password
        path = os.path.join(self.work, 'volume', 'agent',
                            redis.PASSWORD_FILE)
        self.assertEqual(0o600, mode(path))
        self.assertEqual(0o700, mode(os.path.dirname(path)))
        # Another lifecycle on the same volume (a restart, an upgrade's
        # new image) finds the same password.
        self.assertEqual(password, self.make(redis.RedisLifecycle)
                         .agent_password)

    def test_threads_making_the_password_at_once_agree(self) -> None:
        """A heartbeat and prepare asking for the agent's password at the
        same time: one value, no error (a shared '.new' file made one
        writer's rename fail with FileNotFoundError)."""
        engines = [self.make(redis.RedisLifecycle) for _ in range(8)]
        barrier = threading.Barrier(len(engines))
        found, errors = [], []

        def ask(engine):
            barrier.wait()
            try:
                found.append(engine.agent_secret('racy'))
            except Exception as error:  # noqa: B902 - the test's subject
                errors.append(error)
        threads = [threading.Thread(target=ask, args=(engine,))
                   for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        self.assertEqual(1, len(set(found)), found)
        with open(os.path.join(self.work, 'volume', 'agent', 'racy')) as f:
            self.assertEqual(found[0], f.read().strip())
        self.assertEqual(['racy'], sorted(
            name for name in os.listdir(os.path.join(self.work, 'volume',
                                                     'agent'))
            if name.startswith('racy')))

    def test_start_secures_the_acl_file(self) -> None:
        os.makedirs(self.data_dir)
        engine = self.make(redis.RedisLifecycle, os_user='nobody')
        with open(engine.acl_path, 'w') as acl:
            acl.write('user default on nopass ~* &* +@all\n')
        engine._secure_acl()
        with open(engine.acl_path) as acl:
            text = acl.read()
        self.assertRegex(text, r'(?m)^user default off ')
        self.assertNotIn('nopass', text)
        self.assertEqual(0o600, mode(engine.acl_path))
        if os.geteuid() == 0:
            self.assertEqual(65534, os.stat(engine.acl_path).st_uid)

    def test_runs_as_the_redis_user_by_default(self) -> None:
        self.assertEqual('redis', redis.RedisLifecycle.system_user)


class PostgresqlAccessTest(_WorkDir):

    def test_hba_has_no_trust(self) -> None:
        text = postgresql.hba_conf()
        rules = [line.split() for line in text.splitlines()
                 if line.strip() and not line.startswith('#')]
        self.assertNotIn('trust', text)
        self.assertNotIn('md5', text)
        for rule in rules:
            if rule[0] == 'local':
                # The superuser, by peer: its sessions and the
                # pg_basebackup of backups.
                self.assertIn(rule[1], ('all', 'replication'))
                self.assertEqual(['postgres', 'peer', 'map=trove'],
                                 rule[2:])
            else:
                self.assertEqual('host', rule[0])
                # Passwords only; the replication roles are refused
                # (their own replica's lines come before).
                self.assertEqual('reject' if rule[2] == '+os_replication'
                                 else 'scram-sha-256', rule[-1])
        self.assertEqual(2, sum(rule[0] == 'local' for rule in rules))

    def test_ident_maps_the_agent_and_the_engine_user(self) -> None:
        text = postgresql.ident_conf(['root', 'trove-1234', 'root'])
        maps = [line.split() for line in text.splitlines()
                if line.strip() and not line.startswith('#')]
        self.assertEqual([['trove', 'root', 'postgres'],
                          ['trove', 'trove-1234', 'postgres']], maps)

    def test_initdb_trusts_nobody(self) -> None:
        engine = postgresql.PostgresqlLifecycle(
            '/r', '192.0.2.7', self.data_dir, {'initdb': '/bin/initdb'}, 512)
        pgdata = os.path.join(self.work, 'pgdata')
        os.makedirs(pgdata)
        with mock.patch.object(engine, '_run') as run, \
                mock.patch.object(base.Lifecycle, '_user',
                                  return_value=None):
            engine.initdb(pgdata)
        argv = run.call_args[0][0]
        self.assertIn('--auth-local=peer', argv)
        self.assertIn('--auth-host=scram-sha-256', argv)
        self.assertFalse([arg for arg in argv if 'trust' in arg])
        with open(os.path.join(pgdata, 'pg_hba.conf')) as hba:
            self.assertEqual(postgresql.hba_conf(), hba.read())
        self.assertEqual(0o600, mode(os.path.join(pgdata, 'pg_hba.conf')))
        with open(os.path.join(pgdata, 'pg_ident.conf')) as ident:
            self.assertIn('trove  %s  postgres' % base.Lifecycle
                          .agent_user_name(), ident.read())

    def test_no_trust_in_the_lifecycle(self) -> None:
        for module in (postgresql, mariadb, redis):
            with open(module.__file__.replace('.pyc', '.py')) as source:
                code = source.read()
            self.assertNotRegex(code, r"auth-\w+=trust|\btrust\n", module)

    def test_squatted_socket_directory_is_replaced(self) -> None:
        if os.geteuid() != 0:
            self.skipTest('needs root to play another user')
        engine = self.make(postgresql.PostgresqlLifecycle, os_user='nobody')
        squatted = os.path.join(self.work, 'trove-pg-squatted')
        os.makedirs(squatted)
        with open(os.path.join(squatted, 'planted'), 'w'):
            pass
        os.chown(squatted, 1, 1)
        engine.private_dir(squatted, shared_parent=True)
        self.assertEqual([], os.listdir(squatted))
        self.assertEqual(0o700, mode(squatted))
        self.assertEqual(65534, os.stat(squatted).st_uid)
        link = os.path.join(self.work, 'trove-pg-link')
        os.symlink(self.work, link)
        engine.private_dir(link, shared_parent=True)
        self.assertFalse(os.path.islink(link))
        self.assertEqual(0o700, mode(link))


class MariadbAccessTest(_WorkDir):

    def test_unwanted_accounts(self) -> None:
        accounts = [('root', 'localhost'), ('root', '%'),
                    ('root', '127.0.0.1'), ('root', 'myhost'),
                    ('', 'localhost'), ('', 'myhost'),
                    ('mysql', 'localhost'), ('trove-ab12', 'localhost'),
                    ('mariadb.sys', 'localhost'), ('app', '%'),
                    ('mysql', '%')]
        self.assertEqual(
            [('root', '127.0.0.1'), ('root', 'myhost'), ('', 'localhost'),
             ('', 'myhost'), ('mysql', 'localhost'),
             ('trove-ab12', 'localhost')],
            mariadb.unwanted_accounts(accounts, ('trove-ab12', 'mysql')))

    def test_install_gives_a_socket_account_to_root_only(self) -> None:
        engine = mariadb.MariadbLifecycle(
            '/r', '192.0.2.7', self.data_dir,
            {'install_db': '/bin/install-db', 'server': '/bin/mariadbd'},
            512)
        with mock.patch.object(engine, '_run') as run, \
                mock.patch.object(engine, 'start'), \
                mock.patch.object(base.Lifecycle, '_user',
                                  return_value=None):
            engine.prepare()
        argv = run.call_args[0][0]
        self.assertIn('--auth-root-authentication-method=socket', argv)
        self.assertIn('--auth-root-socket-user=root', argv)
        self.assertFalse([arg for arg in argv if arg.startswith('--user')])
        self.assertEqual(0o700, mode(self.data_dir))
        self.assertEqual(0o700, mode(os.path.dirname(engine.socket_path)))

    def test_mariadbd_is_started_as_the_engine_user(self) -> None:
        engine = self.make(mariadb.MariadbLifecycle)
        self.assertEqual(['--defaults-file=%s' % engine.conf_path],
                         engine._arguments())


class EngineUserTest(_WorkDir):

    def setUp(self) -> None:
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('the engine runs as the agent when it is not root')

    def test_the_servers_user_wins_over_the_system_user(self) -> None:
        engine = self.make(postgresql.PostgresqlLifecycle, os_user='nobody')
        self.assertEqual('nobody', engine.engine_user_name)
        self.assertEqual((65534, 65534), engine._user())

    def test_system_user_by_default(self) -> None:
        engine = self.make(mariadb.MariadbLifecycle)
        self.assertEqual('mysql', engine.engine_user_name)

    def test_never_root(self) -> None:
        engine = self.make(redis.RedisLifecycle, os_user='root')
        self.assertRaises(base.EngineError, engine._user)

    def test_missing_user_is_an_error_not_root(self) -> None:
        engine = self.make(redis.RedisLifecycle,
                           os_user='trove-no-such-user-x')
        error = self.assertRaises(base.EngineError, engine._user)
        self.assertIn('never runs as root', error.message)

    def test_no_supplementary_groups(self) -> None:
        engine = self.make(redis.RedisLifecycle, os_user='nobody')
        self.assertEqual({'user': 65534, 'group': 65534,
                          'extra_groups': []}, engine._privileges())

    def test_spawned_engine_has_the_users_identity(self) -> None:
        os.makedirs(self.data_dir)
        engine = self.make(redis.RedisLifecycle, os_user='nobody')
        process = engine._spawn(['sh', '-c', 'id -u; id -G'])
        process.wait(30)
        with open(engine.log_path) as log:
            uid, groups = log.read().split()
        self.assertEqual('65534', uid)
        self.assertEqual('65534', groups)
        self.assertEqual(0o600, mode(engine.log_path))

    def test_log_is_not_followed_through_a_link(self) -> None:
        os.makedirs(self.data_dir)
        target = os.path.join(self.work, 'elsewhere')
        with open(target, 'w'):
            pass
        engine = self.make(redis.RedisLifecycle, os_user='nobody')
        os.symlink(target, engine.log_path)
        self.assertRaises(OSError, engine._spawn, ['true'])
        self.assertEqual('', engine.engine_log_tail())
        self.assertEqual(0, os.path.getsize(target))
