"""The dashboard's settings and its virtualenv preparation (issue 19):
the deployment's Keystone, a random SECRET_KEY in a 0600 file made once,
file sessions, offline compression; the shared virtualenv prepared once."""
import ast
import os
import re
import stat
from unittest import mock

import fixtures
import testtools

from trove_clone.localstack import horizon
from trove_clone.localstack import process


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def settings_of(text: str, secret_key_path: str) -> dict:
    """Execute the settings as Horizon's settings.py does: in a namespace
    that already holds MIDDLEWARE, HORIZON_CONFIG and LOGGING."""
    namespace = {'MIDDLEWARE': ('django.middleware.common.'
                                'CommonMiddleware',),
                 'HORIZON_CONFIG': {},
                 'LOGGING': {'handlers': {'console': {'level': 'DEBUG'}}}}
    exec(compile(text, 'local_settings.py', 'exec'), namespace)
    return namespace


class SettingsTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.venvs = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.localstack.process.VENVS', self.venvs))
        self.state = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                  'horizon')
        self.horizon = horizon.Horizon(self.state, '127.77.180.1', 38090,
                                       'http://127.0.0.1:35357/v3')

    def test_settings(self) -> None:
        self.assertTrue(self.horizon.write_settings())
        self.assertEqual(0o600, mode(self.horizon.settings_path))
        self.assertEqual(0o600, mode(self.horizon.secret_key_path))
        self.assertEqual(0o700, mode(self.horizon.sessions_dir))
        with open(self.horizon.settings_path) as source:
            text = source.read()
        with open(self.horizon.secret_key_path) as source:
            key = source.read().strip()
        self.assertGreaterEqual(len(key), 50)
        # The key is read from its file, never written into the settings.
        self.assertNotIn(key, text)
        settings = settings_of(text, self.horizon.secret_key_path)
        self.assertEqual(key, settings['SECRET_KEY'])
        self.assertEqual('http://127.0.0.1:35357/v3',
                         settings['OPENSTACK_KEYSTONE_URL'])
        self.assertEqual('django.contrib.sessions.backends.file',
                         settings['SESSION_ENGINE'])
        self.assertEqual(self.horizon.sessions_dir,
                         settings['SESSION_FILE_PATH'])
        self.assertTrue(settings['COMPRESS_OFFLINE'])
        self.assertFalse(settings['DEBUG'])
        self.assertIn('127.77.180.1', settings['ALLOWED_HOSTS'])
        self.assertEqual(os.path.join(self.venvs, 'horizon', 'static'),
                         settings['STATIC_ROOT'])
        self.assertEqual('whitenoise.middleware.WhiteNoiseMiddleware',
                         settings['MIDDLEWARE'][0])
        self.assertEqual(
            'openstack_dashboard.local.trove_clone_customization',
            settings['HORIZON_CONFIG']['customization_module'])
        self.assertEqual('http://127.77.180.1:38090/',
                         self.horizon.url)

    def test_secret_key_made_once(self) -> None:
        self.horizon.write_settings()
        with open(self.horizon.secret_key_path) as source:
            first = source.read()
        self.assertFalse(self.horizon.write_settings())
        other = horizon.Horizon(self.state, '127.0.0.1', 8090,
                                'http://127.0.0.1:5000/v3')
        self.assertTrue(other.write_settings())
        with open(self.horizon.secret_key_path) as source:
            self.assertEqual(first, source.read())
        another = horizon.Horizon(os.path.join(self.state, 'other'),
                                  '127.0.0.1', 8090,
                                  'http://127.0.0.1:5000/v3')
        another.write_settings()
        with open(another.secret_key_path) as source:
            self.assertNotEqual(first, source.read())

    def test_gunicorn_on_the_host_and_port(self) -> None:
        bin_dir = os.path.join(self.venvs, 'horizon', 'bin')
        os.makedirs(bin_dir)
        open(os.path.join(bin_dir, 'gunicorn'), 'w').close()
        argv = self.horizon.argv()
        self.assertEqual(os.path.join(bin_dir, 'gunicorn'), argv[0])
        self.assertEqual('127.77.180.1:38090',
                         argv[argv.index('--bind') + 1])
        self.assertEqual('openstack_dashboard.wsgi:application', argv[-1])


class PrepareVenvTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.venvs = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.localstack.process.VENVS', self.venvs))
        site = os.path.join(self.venvs, 'horizon', 'lib', 'python3.11',
                            'site-packages')
        self.local = os.path.join(site, 'openstack_dashboard', 'local')
        os.makedirs(os.path.join(self.local, 'enabled'))
        self.enabled = os.path.join(site, 'trove_dashboard', 'enabled')
        os.makedirs(self.enabled)
        for name in ('_1710_database_panel_group.py', '__init__.py'):
            open(os.path.join(self.enabled, name), 'w').close()
        with open(os.path.join(self.enabled, horizon.ENABLED_OVERRIDES[0]
                               + '.py'), 'w') as disabled:
            disabled.write('PANEL = "database_clusters"\nDISABLED = True\n')
        os.makedirs(os.path.join(self.venvs, 'horizon', 'bin'))
        open(os.path.join(self.venvs, 'horizon', 'bin', 'python'),
             'w').close()
        self.horizon = horizon.Horizon(
            os.path.join(self.useFixture(fixtures.TempDir()).path, 'h'),
            '127.0.0.1', 8090, 'http://127.0.0.1:5000/v3')

    def test_once(self) -> None:
        with mock.patch.object(process, 'run') as run:
            self.assertTrue(self.horizon.prepare_venv())
            self.assertFalse(self.horizon.prepare_venv())
        commands = [call.args[0][3:] for call in run.call_args_list]
        self.assertEqual([['collectstatic', '--noinput', '--clear'],
                          ['compress', '--force']], commands)
        env = run.call_args_list[0].kwargs['env']
        self.assertEqual(self.horizon.settings_path,
                         env['TROVE_CLONE_DASHBOARD_SETTINGS'])
        self.assertTrue(os.path.exists(os.path.join(
            self.local, 'enabled', '_1710_database_panel_group.py')))
        self.assertFalse(os.path.exists(os.path.join(
            self.local, 'enabled', '__init__.py')))
        for path in (os.path.join(self.local, 'local_settings.d',
                                  horizon.SNIPPET),
                     os.path.join(self.local,
                                  horizon.CUSTOMIZATION + '.py')):
            with open(path) as source:
                ast.parse(source.read())

    def test_clusters_panel_enabled(self) -> None:
        """Horizon reads local/enabled's file of the plugin's name: it
        takes the plugin's settings with DISABLED = False."""
        with mock.patch.object(process, 'run'):
            self.horizon.prepare_venv()
        name = horizon.ENABLED_OVERRIDES[0]
        with open(os.path.join(self.local, 'enabled', name + '.py')) as f:
            text = f.read()
        self.assertIn('from trove_dashboard.enabled.%s import *' % name,
                      text)
        self.assertEqual('False', re.findall(r'^DISABLED = (\w+)$', text,
                                             re.M)[-1])

    def test_snippet_runs_the_deployment_settings(self) -> None:
        settings = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                'settings.py')
        with open(settings, 'w') as target:
            target.write('WEBROOT = "/dashboard/"\n')
        namespace: dict = {}
        self.useFixture(fixtures.EnvironmentVariable(
            'TROVE_CLONE_DASHBOARD_SETTINGS', settings))
        exec(compile(horizon._SNIPPET_TEXT, 'snippet', 'exec'), namespace)
        self.assertEqual('/dashboard/', namespace['WEBROOT'])

    def test_not_installed(self) -> None:
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.localstack.process.VENVS',
            self.useFixture(fixtures.TempDir()).path))
        error = self.assertRaises(process.ServiceError,
                                  self.horizon.prepare_venv)
        self.assertIn('install-openstack-services horizon', str(error))
