"""tools/trovestack's credentials: random passwords generated once into
STATE/credentials (0600), reused on a rerun, written into a 0600
trove.conf; no fixed password anywhere."""
import importlib.util
import io
import os
import stat
import time
from unittest import mock

import fixtures
import testtools

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir,
                                     os.pardir, os.pardir, os.pardir))


def load_trovestack(state: str):
    spec = importlib.util.spec_from_file_location(
        'trovestack_under_test', os.path.join(ROOT, 'tools',
                                              'trovestack.py'))
    module = importlib.util.module_from_spec(spec)
    os.environ['TROVE_CLONE_STATE'] = state
    try:
        spec.loader.exec_module(module)
    finally:
        del os.environ['TROVE_CLONE_STATE']
    return module


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class CredentialsTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        self.trovestack = load_trovestack(self.state)

    def test_random_private_and_reused(self) -> None:
        passwords = self.trovestack.credentials()
        path = os.path.join(self.state, 'credentials')
        self.assertEqual(0o600, mode(path))
        self.assertEqual({'admin', 'trove', 'demo', 'glance', 'swift'},
                         set(passwords))
        self.assertEqual(5, len(set(passwords.values())))
        for password in passwords.values():
            self.assertGreaterEqual(len(password), 20)
            self.assertNotIn(password, ('secret', 'demo-password'))
        self.assertEqual(passwords, self.trovestack.credentials())
        self.assertEqual(passwords,
                         load_trovestack(self.state).credentials())
        self.assertNotEqual(passwords, load_trovestack(self.useFixture(
            fixtures.TempDir()).path).credentials())

    def test_conf_is_private_and_uses_the_service_user(self) -> None:
        self.trovestack.local_state_dir = lambda: os.path.join(
            self.state, 'local')
        path, changed = self.trovestack.write_conf('redis')
        self.assertTrue(changed)
        self.assertEqual(0o600, mode(path))
        with open(path) as conf:
            text = conf.read()
        self.assertIn('username = trove\n', text)
        self.assertIn('password = %s\n'
                      % self.trovestack.credentials()['trove'], text)
        self.assertNotIn('secret', text)
        # Unchanged on a rerun, so that kick-start restarts nothing.
        self.assertFalse(self.trovestack.write_conf('redis')[1])

    def test_conf_reaches_glance_as_the_service_user(self) -> None:
        self.trovestack.local_state_dir = lambda: os.path.join(
            self.state, 'local')
        with open(self.trovestack.write_conf('redis')[0]) as conf:
            text = conf.read()
        glance = text.split('[glance]\n', 1)[1].split('\n[', 1)[0]
        self.assertIn('auth_type = keystone', glance)
        service = text.split('[service_credentials]\n', 1)[1].split(
            '\n[', 1)[0]
        self.assertIn('username = trove\n', service)
        self.assertIn('project_name = service\n', service)
        self.assertIn('auth_url = http://127.0.0.1:', service)
        self.assertIn('password = %s\n'
                      % self.trovestack.credentials()['trove'], service)

    def test_glance_runs_with_keystone(self) -> None:
        paste = os.path.join(self.state, 'paste.ini')
        self.useFixture(fixtures.MockPatchObject(
            self.trovestack.glance_service.Glance, '_paste_ini',
            lambda glance: paste))
        glance = self.trovestack.glance_service.Glance(
            os.path.join(self.state, 'glance'), 1, keystone_auth={
                'auth_url': 'http://127.0.0.1:2/v3', 'username': 'glance',
                'password': self.trovestack.credentials()['glance'],
                'project_name': 'service'})
        text = glance.conf_text()
        self.assertIn('flavor = keystone\n', text)
        self.assertIn('[keystone_authtoken]\n', text)
        self.assertIn('password = %s\n'
                      % self.trovestack.credentials()['glance'], text)
        # Glance's default policy, not the legacy rules.
        self.assertNotIn('enforce_new_defaults', text)
        self.assertNotIn('enforce_scope', text)
        self.assertFalse(self.trovestack.glance_conf_current(glance))
        # The functional tests' Glance without Keystone: no roles, legacy
        # rules.
        anonymous = self.trovestack.glance_service.Glance(
            os.path.join(self.state, 'anonymous'), 1).conf_text()
        self.assertIn('flavor = \n', anonymous)
        self.assertIn('enforce_new_defaults = false\n', anonymous)
        self.assertNotIn('[keystone_authtoken]', anonymous)


class SayTest(testtools.TestCase):
    """kick-start's lines carry the seconds since trovestack began."""

    def test_elapsed_from_the_wrapper_clock(self) -> None:
        self.useFixture(fixtures.EnvironmentVariable(
            'TROVESTACK_STARTED', '%f' % (time.time() - 12.3)))
        trovestack = load_trovestack(self.useFixture(
            fixtures.TempDir()).path)
        output = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', output))
        trovestack.say('keystone: started')
        self.assertRegex(output.getvalue(),
                         r'^\[  1[23]\.\ds\] keystone: started\n$')


class GuestVhostTest(testtools.TestCase):
    """The guests' vhost and user: only when rabbitmqctl works, with a
    generated password kept 0600, written as guest_transport_url."""

    def setUp(self) -> None:
        super().setUp()
        # The default vhost, whatever deployment the tests run next to.
        for name in ('TROVE_CLONE_TOPIC_SUFFIX', 'TROVE_CLONE_GUEST_VHOST'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.state = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        self.trovestack = load_trovestack(self.state)
        self.calls = []

    def fake_rabbitmqctl(self, returncode: int = 0):
        def run(*args, check=True):
            self.calls.append(args)
            stdout = 'guest\t[administrator]\n' if args[0] == 'list_users' \
                else '/\n'
            return mock.Mock(returncode=returncode, stdout=stdout)
        self.trovestack.rabbitmqctl = run
        self.trovestack.shutil = mock.Mock(which=lambda name: '/bin/x')

    def test_not_usable(self) -> None:
        self.fake_rabbitmqctl(returncode=2)
        self.assertIsNone(self.trovestack.ensure_guest_vhost())
        self.assertEqual([('list_vhosts',)], self.calls)

    def test_created_and_in_the_conf(self) -> None:
        self.fake_rabbitmqctl()
        url = self.trovestack.ensure_guest_vhost()
        with open(os.path.join(self.state, 'rabbit-guests')) as source:
            password = source.read().strip()
        self.assertEqual(0o600, mode(os.path.join(self.state,
                                                  'rabbit-guests')))
        self.assertGreaterEqual(len(password), 20)
        self.assertEqual('rabbit://trove_guests:%s@127.0.0.1:5672/'
                         'trove_guests' % password, url)
        commands = [call[0] for call in self.calls]
        for command in ('add_vhost', 'add_user', 'set_permissions',
                        'set_topic_permissions'):
            self.assertIn(command, commands)
        permissions = [call for call in self.calls
                       if call[0] == 'set_permissions'][0]
        self.assertNotRegex('trove-taskmanager', permissions[-1])
        self.assertRegex('guestagent-x.instance-1', permissions[-1])
        self.trovestack.local_state_dir = lambda: os.path.join(
            self.state, 'local')
        path, _changed = self.trovestack.write_conf('redis', url)
        with open(path) as conf:
            self.assertIn('guest_transport_url = %s\n' % url, conf.read())


class TempestGroupTest(testtools.TestCase):
    """int-tests --group=tempest runs tools/tempest/run.py for the
    datastore asked, not the functional tests."""

    def test_runs_the_tempest_plugin(self) -> None:
        trovestack = load_trovestack(self.useFixture(
            fixtures.TempDir()).path)
        done = mock.Mock(returncode=3)
        with mock.patch.object(trovestack.subprocess, 'run',
                               return_value=done) as run:
            self.assertEqual(3, trovestack.main(
                ['int-tests', '--group=tempest', '--datastore',
                 'postgresql']))
        argv = run.call_args[0][0]
        self.assertEqual(os.path.join(ROOT, 'tools', 'tempest', 'run.py'),
                         argv[1])
        self.assertEqual(['--datastore', 'postgresql'], argv[2:])
        self.assertEqual(1, run.call_count)


class GuestVhostPerDeploymentTest(testtools.TestCase):
    """A deployment with a topic suffix has a guest vhost and user of its
    own: kick-start resets the user's password, which would lock out the
    guests of another deployment sharing it."""

    def load(self, **environ) -> object:
        self.useFixture(fixtures.EnvironmentVariable(
            'TROVE_CLONE_GUEST_VHOST'))
        self.useFixture(fixtures.EnvironmentVariable(
            'TROVE_CLONE_TOPIC_SUFFIX'))
        for name, value in environ.items():
            self.useFixture(fixtures.EnvironmentVariable(name, value))
        return load_trovestack(self.useFixture(fixtures.TempDir()).path)

    def test_default(self) -> None:
        trovestack = self.load()
        self.assertEqual('trove_guests', trovestack.GUEST_VHOST)
        self.assertEqual('trove_guests', trovestack.GUEST_USER)

    def test_per_topic_suffix(self) -> None:
        trovestack = self.load(TROVE_CLONE_TOPIC_SUFFIX='h14t')
        self.assertEqual('trove_guests_h14t', trovestack.GUEST_VHOST)
        self.assertEqual('trove_guests_h14t', trovestack.GUEST_USER)

    def test_given(self) -> None:
        trovestack = self.load(TROVE_CLONE_TOPIC_SUFFIX='h14t',
                               TROVE_CLONE_GUEST_VHOST='mine')
        self.assertEqual('mine', trovestack.GUEST_VHOST)


class EngineTablesTest(testtools.TestCase):
    """kick-start's datastores and client commands come from the engine
    descriptors."""

    def setUp(self) -> None:
        super().setUp()
        self.trovestack = load_trovestack(
            self.useFixture(fixtures.TempDir()).path)

    def test_datastores(self) -> None:
        self.assertEqual({'mysql': ('mariadb', '10.11', 'mysql'),
                          'mariadb': ('mariadb', '10.11', 'mariadb'),
                          'postgresql': ('postgresql', '16', 'postgresql'),
                          'redis': ('redis', '7.0', 'redis')},
                         self.trovestack.DATASTORES)

    def test_usage(self) -> None:
        for datastore, connect, databases in (
                ('mysql', 'mysql -h IP -u app -papp-password appdb', True),
                ('mariadb', 'mariadb -h IP -u app -papp-password appdb',
                 True),
                ('postgresql',
                 'PGPASSWORD=app-password psql -h IP -U app appdb', True),
                ('redis', 'redis-cli -h IP --user app --pass app-password',
                 False)):
            text = self.trovestack.usage_text(datastore, '1', 'c', 'o')
            self.assertIn('  %s\n' % connect, text)
            self.assertEqual(databases, '--databases appdb' in text)


class DashboardTest(testtools.TestCase):
    """trovestack dashboard: only for a running deployment; installs the
    horizon virtualenv, starts gunicorn once, records its PID (so stop
    ends it) and prints the URL and where the demo password is, never the
    password itself."""

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.trovestack = load_trovestack(self.state)
        self.out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))

    def test_needs_a_running_deployment(self) -> None:
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        with mock.patch.object(self.trovestack.subprocess, 'run') as run:
            self.assertEqual(1, self.trovestack.main(['dashboard']))
        self.assertIn('kick-start first', err.getvalue())
        run.assert_not_called()

    def test_started_and_recorded(self) -> None:
        self.trovestack.credentials()
        horizon = mock.Mock(url='http://127.0.0.1:8090/')
        horizon.prepare_venv.return_value = False
        horizon.write_settings.return_value = True
        horizon.start.return_value = mock.Mock(pid=4242)
        self.trovestack.dashboard = lambda: horizon
        self.trovestack.check_port_free = mock.Mock()
        alive = {'keystone': True, 'horizon': False}
        self.trovestack.alive = alive.get
        with mock.patch.object(self.trovestack.subprocess, 'run') as run:
            self.assertEqual(0, self.trovestack.main(['dashboard']))
        self.assertEqual('horizon', run.call_args[0][0][1])
        self.assertEqual(4242, self.trovestack.recorded_pid('horizon'))
        output = self.out.getvalue()
        self.assertIn('http://127.0.0.1:8090/', output)
        self.assertIn('user demo', output)
        self.assertNotIn(self.trovestack.credentials()['demo'], output)

    def test_kick_start_option(self) -> None:
        self.trovestack.kick_start = mock.Mock(return_value=0)
        self.trovestack.start_dashboard = mock.Mock(return_value=0)
        self.assertEqual(0, self.trovestack.main(['kick-start', 'mysql',
                                                  '--dashboard']))
        self.trovestack.start_dashboard.assert_called_once_with()
        self.trovestack.main(['kick-start', 'mysql'])
        self.assertEqual(1, self.trovestack.start_dashboard.call_count)


class KickStartDatastoresTest(testtools.TestCase):
    """kick-start DATASTORE [DATASTORE ...]: the first is the default
    datastore (at --version), the others are registered too, each at its
    default version; an unknown one is refused before anything starts."""

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.trovestack = load_trovestack(self.state)
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', io.StringIO()))
        self.err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.err))

    def test_command_line(self) -> None:
        kick = self.trovestack.kick_start = mock.Mock(return_value=0)
        self.assertEqual(0, self.trovestack.main(['kick-start']))
        kick.assert_called_with('mysql', None, ())
        self.trovestack.main(['kick-start', 'postgresql', 'redis',
                              '--version', '15'])
        kick.assert_called_with('postgresql', '15', ('redis',))

    def test_others_registered(self) -> None:
        stack = self.trovestack
        for name in ('install_missing', 'start_keystone', 'start_glance',
                     'start_swift', 'ensure_guest_vhost', 'start_daemons',
                     'ensure_flavor', 'register_datastore', 'write_openrc'):
            setattr(stack, name, mock.Mock())
        stack.write_conf = mock.Mock(return_value=('trove.conf', False))
        stack.local_state_dir = lambda: os.path.join(self.state, 'local')
        stack.upload_image = mock.Mock(side_effect=lambda ds, v: 'img-' + ds)
        self.assertEqual(0, stack.kick_start('mysql', '8.0',
                                             ('redis', 'mysql', 'redis')))
        self.assertEqual('mysql', stack.write_conf.call_args[0][0])
        self.assertEqual(
            [mock.call('trove.conf', 'mysql', '8.0', 'img-mysql'),
             mock.call('trove.conf', 'redis', stack.DATASTORES['redis'][1],
                       'img-redis')],
            stack.register_datastore.call_args_list)

    def test_unknown_refused(self) -> None:
        self.trovestack.install_missing = mock.Mock()
        self.assertEqual(1, self.trovestack.main(['kick-start', 'mysql',
                                                  'nosuch']))
        self.assertIn('unknown datastore nosuch', self.err.getvalue())
        self.trovestack.install_missing.assert_not_called()
