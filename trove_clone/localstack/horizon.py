"""Horizon with trove-dashboard on loopback, for a trovestack deployment.

The virtualenv (``horizon`` under TROVE_CLONE_VENVS, made by
``tools/install-openstack-services horizon``) is shared by every
deployment on the machine; what differs per deployment lives in its state
directory:

- ``local_settings.py``: the Keystone URL, the session directory, the
  allowed host, and the path of ``secret_key``;
- ``secret_key`` (0600): Django's SECRET_KEY, random, made once;
- ``sessions/`` (0700): Django's file session backend.

The virtualenv itself is prepared once (``prepare_venv``): trove-dashboard's
panels enabled (the Clusters panel too, which it ships disabled), a
``local_settings.d`` snippet that executes the file named by
``TROVE_CLONE_DASHBOARD_SETTINGS``, the customization module that reads
flavors from Trove's flavors API when the catalog has no compute service,
and the static files collected and compressed offline (they do not depend
on the deployment). gunicorn serves the dashboard, WhiteNoise its static
files.
"""
import glob
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from trove_clone.common import secrets as secrets_files
from trove_clone.localstack import process

VENV = 'horizon'
#: Where the dashboard answers, below its address.
WEBROOT = '/'
#: The customization module, installed in Horizon's ``local`` package.
CUSTOMIZATION = 'trove_clone_customization'
SNIPPET = '_50_trove_clone.py'
#: Bumped when what prepare_venv installs changes (static files are then
#: collected again).
PREPARED_VERSION = '4'
#: trove-dashboard's enabled files that it ships with ``DISABLED = True``
#: and this API serves: Horizon reads a file of the same name in
#: ``local/enabled`` instead of the plugin's, so the one written there
#: takes the plugin's settings and enables the panel (the Clusters panel:
#: clusters exist, doc/clusters.md).
ENABLED_OVERRIDES = ('_1740_project_database_clusters_panel',)

_ENABLE_TEXT = '''\
# Installed by trove_clone (tools/trovestack dashboard): trove-dashboard's
# %(name)s.py with DISABLED = False. Horizon uses this file instead
# of the plugin's (same name, read from local/enabled).
from trove_dashboard.enabled.%(name)s import *  # noqa

DISABLED = False
'''

_SNIPPET_TEXT = '''\
# Installed by trove_clone (tools/trovestack dashboard): the settings of
# the deployment this dashboard serves, a file in its state directory.
# Horizon logs and ignores a snippet that fails: a dashboard without its
# deployment's settings must not start, so a failure ends the process.
import os as _os

_trove_clone_settings = _os.environ.get('TROVE_CLONE_DASHBOARD_SETTINGS')
if _trove_clone_settings:
    try:
        with open(_trove_clone_settings, encoding='utf-8') as _file:
            exec(compile(_file.read(), _trove_clone_settings, 'exec'))
    except Exception as _error:
        raise SystemExit('%s: %s: %s' % (
            _trove_clone_settings, type(_error).__name__, _error))
'''

_CUSTOMIZATION_TEXT = '''\
"""Installed by trove_clone: the dashboard without Nova and Cinder.

trove_clone's local backend has no compute or volume service in the
catalog: flavors come from Trove's flavors API (as trove-dashboard read
them before it asked Nova), and the launch form's availability zones and
volume types are empty lists instead of errors. With those services in
the catalog, trove-dashboard's and Horizon's own calls run."""
from openstack_dashboard.api import base
from openstack_dashboard.api import cinder
from openstack_dashboard.api import nova
from trove_dashboard.api import trove

_nova_flavor_list = trove.flavor_list
_nova_flavor_get = trove.flavor_get
_availability_zone_list = nova.availability_zone_list
_volume_type_list = cinder.volume_type_list


def flavor_list(request):
    if base.is_service_enabled(request, 'compute'):
        return _nova_flavor_list(request)
    return trove.troveclient(request).flavors.list()


def flavor_get(request, flavor_id):
    if base.is_service_enabled(request, 'compute'):
        return _nova_flavor_get(request, flavor_id)
    return trove.troveclient(request).flavors.get(flavor_id)


def availability_zone_list(request, *args, **kwargs):
    if base.is_service_enabled(request, 'compute'):
        return _availability_zone_list(request, *args, **kwargs)
    return []


def volume_type_list(request, *args, **kwargs):
    if any(base.is_service_enabled(request, service) for service in
           ('volumev3', 'block-storage', 'volume')):
        return _volume_type_list(request, *args, **kwargs)
    return []


trove.flavor_list = flavor_list
trove.flavor_get = flavor_get
nova.availability_zone_list = availability_zone_list
cinder.volume_type_list = volume_type_list
'''


def venv_dir() -> str:
    """The dashboard's virtualenv."""
    return os.path.join(process.VENVS, VENV)


def package_dir(package: str) -> str:
    """The directory of ``package`` in the dashboard's virtualenv."""
    found = glob.glob(os.path.join(venv_dir(), 'lib', 'python*',
                                   'site-packages', package))
    if not found:
        raise process.ServiceError(
            '%s is not installed in %s: run tools/install-openstack-'
            'services horizon first.' % (package, venv_dir()))
    return found[0]


def static_root() -> str:
    """The collected and compressed static files (one per virtualenv)."""
    return os.path.join(venv_dir(), 'static')


def _write_if_changed(path: str, text: str) -> None:
    try:
        with open(path, encoding='utf-8') as current:
            if current.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path + '.new', 'w', encoding='utf-8') as new:
        new.write(text)
    os.replace(path + '.new', path)


class Horizon(process.Service):
    """The dashboard of one deployment.

    ``host`` and ``port``: where gunicorn listens; ``keystone_url``: the
    deployment's identity endpoint (``http://127.0.0.1:5000/v3``).
    """

    def __init__(self, state_dir: str, host: str, port: int,
                 keystone_url: str, log_dir: str | None = None) -> None:
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.keystone_url = keystone_url
        self.url = 'http://%s:%d%s' % (host, port, WEBROOT)
        self.settings_path = os.path.join(state_dir, 'local_settings.py')
        self.secret_key_path = os.path.join(state_dir, 'secret_key')
        self.sessions_dir = os.path.join(state_dir, 'sessions')
        self.log_path = os.path.join(log_dir or state_dir, 'horizon.log')
        self.process = None

    # --- the shared virtualenv --------------------------------------------

    def prepare_venv(self) -> bool:
        """Enable trove-dashboard's panels, install the settings snippet
        and the customization module, collect and compress the static
        files; done once per virtualenv. Returns whether it did work."""
        marker = os.path.join(venv_dir(), '.trove-clone-prepared')
        try:
            with open(marker) as source:
                if source.read().strip() == PREPARED_VERSION:
                    return False
        except FileNotFoundError:
            pass
        local = os.path.join(package_dir('openstack_dashboard'), 'local')
        enabled = os.path.join(package_dir('trove_dashboard'), 'enabled')
        for path in glob.glob(os.path.join(enabled, '_1*.py')):
            shutil.copy(path, os.path.join(local, 'enabled'))
        for name in ENABLED_OVERRIDES:
            if os.path.exists(os.path.join(enabled, name + '.py')):
                _write_if_changed(
                    os.path.join(local, 'enabled', name + '.py'),
                    _ENABLE_TEXT % {'name': name})
        os.makedirs(os.path.join(local, 'local_settings.d'), exist_ok=True)
        _write_if_changed(os.path.join(local, 'local_settings.d', SNIPPET),
                          _SNIPPET_TEXT)
        _write_if_changed(os.path.join(local, CUSTOMIZATION + '.py'),
                          _CUSTOMIZATION_TEXT)
        # The static files do not depend on the deployment: collected and
        # compressed with this deployment's settings, served to all.
        self.write_settings()
        shutil.rmtree(static_root(), ignore_errors=True)
        for command in (['collectstatic', '--noinput', '--clear'],
                        ['compress', '--force']):
            process.run(self._manage(command), env=self._env(),
                        timeout=1200, log_path=self.log_path)
        with open(marker, 'w') as done:
            done.write(PREPARED_VERSION + '\n')
        return True

    def _manage(self, args: list[str]) -> list[str]:
        return [process.venv_bin(VENV, 'python'), '-m', 'django', *args]

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update(DJANGO_SETTINGS_MODULE='openstack_dashboard.settings',
                   TROVE_CLONE_DASHBOARD_SETTINGS=self.settings_path)
        return env

    # --- this deployment --------------------------------------------------

    def settings_text(self) -> str:
        """local_settings.py of this deployment (no secret in it: the
        SECRET_KEY is read from its own 0600 file)."""
        return (
            '# The dashboard of the trove_clone deployment in %(state)s\n'
            '# (written by tools/trovestack; executed by Horizon\'s\n'
            '# settings through local_settings.d/%(snippet)s).\n'
            'with open(%(key)r) as _key:\n'
            '    SECRET_KEY = _key.read().strip()\n'
            'DEBUG = False\n'
            'WEBROOT = %(webroot)r\n'
            'ALLOWED_HOSTS = [%(host)r, "127.0.0.1", "localhost"]\n'
            'OPENSTACK_HOST = "127.0.0.1"\n'
            'OPENSTACK_KEYSTONE_URL = %(keystone)r\n'
            'OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = "Default"\n'
            'OPENSTACK_KEYSTONE_DEFAULT_ROLE = "member"\n'
            'OPENSTACK_ENDPOINT_TYPE = "publicURL"\n'
            '# Sessions in files, the cache in memory (one gunicorn '
            'process).\n'
            'SESSION_ENGINE = "django.contrib.sessions.backends.file"\n'
            'SESSION_FILE_PATH = %(sessions)r\n'
            'CACHES = {"default": {"BACKEND": '
            '"django.core.cache.backends.locmem.LocMemCache"}}\n'
            '# Plain HTTP on loopback.\n'
            'SESSION_COOKIE_SECURE = False\n'
            'CSRF_COOKIE_SECURE = False\n'
            'STATIC_ROOT = %(static)r\n'
            'COMPRESS_OFFLINE = True\n'
            'MIDDLEWARE = ("whitenoise.middleware.WhiteNoiseMiddleware",)'
            ' + tuple(MIDDLEWARE)\n'
            'HORIZON_CONFIG["customization_module"] = '
            '"openstack_dashboard.local.%(customization)s"\n'
            % {'state': self.state_dir, 'snippet': SNIPPET,
               'key': self.secret_key_path, 'webroot': WEBROOT,
               'host': self.host, 'keystone': self.keystone_url,
               'sessions': self.sessions_dir, 'static': static_root(),
               'customization': CUSTOMIZATION})

    def write_settings(self) -> bool:
        """Write the settings, the secret key (once) and the sessions
        directory; returns whether the settings changed."""
        secrets_files.make_private_dirs(self.state_dir)
        secrets_files.make_private_dirs(self.sessions_dir)
        secrets_files.create_private_file(
            self.secret_key_path, secrets.token_urlsafe(48) + '\n')
        text = self.settings_text()
        try:
            with open(self.settings_path) as current:
                if current.read() == text:
                    return False
        except FileNotFoundError:
            pass
        secrets_files.write_private_file(self.settings_path, text)
        return True

    def argv(self) -> list[str]:
        """gunicorn serving the dashboard."""
        return [process.venv_bin(VENV, 'gunicorn'),
                '--bind', '%s:%d' % (self.host, self.port),
                '--workers', '1', '--threads', '8', '--timeout', '300',
                '--control-socket', os.path.join(self.state_dir,
                                                 'gunicorn.ctl'),
                'openstack_dashboard.wsgi:application']

    def start(self, timeout: float = 180) -> subprocess.Popen:
        """Start gunicorn (the settings written first); wait until the
        login page answers."""
        self.write_settings()
        self.process = process.start(self.argv(), self._env(), self.log_path)
        self.wait_login_page(timeout)
        return self.process

    def wait_login_page(self, timeout: float) -> None:
        """Wait until the login page answers 200 (a dashboard answering
        404 there runs without its settings); stop it and raise
        ServiceError otherwise."""
        url = self.url + 'auth/login/'
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (urllib.error.URLError, OSError):
                status = None
            if status == 200:
                return
            time.sleep(0.5)
        process.stop(self.process)
        tail = ''
        if os.path.exists(self.log_path):
            with open(self.log_path, errors='replace') as log:
                tail = log.read()[-3000:]
        raise process.ServiceError('%s did not answer 200 within %.0f s '
                                   '(last: %s).\n%s' % (url, timeout,
                                                        status, tail))
