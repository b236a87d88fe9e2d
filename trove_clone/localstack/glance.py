"""A real Glance on loopback: SQLite metadata, file store.

Without Keystone (the functional tests' GlanceFixture) no request carries a
user or roles: any client may do what needs no role, nothing that needs
one (publicizing an image). With Keystone (``keystone_auth``, as
trovestack runs it) Glance validates tokens with keystonemiddleware and
applies its default policy: the admin publicizes images, a member
cannot.
"""
import os
import shutil
import tempfile

import fixtures

from trove_clone.common import secrets as secrets_files
from trove_clone.localstack import process

_CONF = """[DEFAULT]
log_file = %(dir)s/glance-api.log
enabled_backends = local:file
disk_formats = ami,ari,aki,vhd,vhdx,vmdk,raw,qcow2,vdi,iso,ploop
container_formats = ami,ari,aki,bare,ovf,ova,docker,compressed
image_size_cap = 21474836480
[database]
connection = sqlite:///%(dir)s/glance.sqlite
[glance_store]
default_backend = local
[local]
filesystem_store_datadir = %(dir)s/images
[os_glance_staging_store]
filesystem_store_datadir = %(dir)s/staging
[os_glance_tasks_store]
filesystem_store_datadir = %(dir)s/tasks
[paste_deploy]
flavor = %(flavor)s
config_file = %(paste)s
[image_format]
# Guest images are archives of a guest environment, not disk images: do not
# refuse them because their content is not the declared disk format.
require_image_format_match = false
"""

#: Without Keystone no request has roles: the legacy rules, which let a
#: request with no roles act on images with no owner.
_NO_KEYSTONE = """[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
"""

#: With Keystone: tokens validated as a service user; Glance's default
#: policy (oslo.policy's new defaults and scope checks).
_KEYSTONE = """[keystone_authtoken]
www_authenticate_uri = %(auth_url)s
auth_url = %(auth_url)s
auth_type = password
username = %(username)s
password = %(password)s
project_name = %(project_name)s
user_domain_name = Default
project_domain_name = Default
region_name = %(region)s
memcached_servers =
service_token_roles_required = true
"""

#: What ``keystone_auth`` must give.
KEYSTONE_AUTH_KEYS = ('auth_url', 'username', 'password', 'project_name')


class Glance(process.Service):
    """Glance serving ``url`` from ``state_dir``.

    ``keystone_auth``, when given, is the service user Glance validates
    tokens as (``auth_url``, ``username``, ``password``, ``project_name``
    in the Default domain; it needs the ``service`` or ``admin`` role):
    Glance then runs with keystonemiddleware and its default policy.
    Without it Glance takes every request as anonymous.
    """

    def __init__(self, state_dir: str | None = None,
                 port: int | None = None,
                 keystone_auth: dict | None = None,
                 region: str = 'RegionOne') -> None:
        if keystone_auth is not None:
            missing = [key for key in KEYSTONE_AUTH_KEYS
                       if not keystone_auth.get(key)]
            if missing:
                raise ValueError('keystone_auth lacks %s'
                                 % ', '.join(missing))
        self.keystone_auth = keystone_auth
        self.region = region
        self.state_dir = state_dir or tempfile.mkdtemp(prefix='trove-glance-')
        self.port = port or process.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.process = None
        self.startup_seconds = 0.0

    def _paste_ini(self) -> str:
        source = os.path.join(process.VENVS, 'glance', 'etc', 'glance',
                              'glance-api-paste.ini')
        if not os.path.exists(source):
            raise process.ServiceError('%s is missing: run tools/install-'
                                       'openstack-services.' % source)
        target = os.path.join(self.state_dir, 'glance-api-paste.ini')
        shutil.copy(source, target)
        return target

    def conf_text(self) -> str:
        """glance-api.conf of this Glance."""
        keystone = self.keystone_auth is not None
        text = _CONF % {'dir': self.state_dir, 'paste': self._paste_ini(),
                        'flavor': 'keystone' if keystone else ''}
        if keystone:
            return text + _KEYSTONE % dict(self.keystone_auth,
                                           region=self.region)
        return text + _NO_KEYSTONE

    def start(self) -> 'Glance':
        for name in ('images', 'staging', 'tasks'):
            os.makedirs(os.path.join(self.state_dir, name), exist_ok=True)
        conf_path = os.path.join(self.state_dir, 'glance-api.conf')
        # 0600: with Keystone it holds the service user's password.
        secrets_files.write_private_file(conf_path, self.conf_text())
        process.run([process.venv_bin('glance', 'glance-manage'),
                     '--config-file', conf_path, 'db_sync'],
                    log_path=os.path.join(self.state_dir, 'setup.log'))
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=self.state_dir)
        log_path = os.path.join(self.state_dir, 'gunicorn.log')
        self.process = process.start(
            process.gunicorn_argv('glance', self.port, self.state_dir,
                                  'glance.wsgi.api:application'),
            env, log_path)
        self.startup_seconds = process.wait_http(
            self.url + '/versions', self.process, 60, log_path)
        return self


class GlanceFixture(fixtures.Fixture):
    """Glance for a test (with Keystone when ``keystone_auth`` is given,
    see Glance); stopped and removed at cleanup."""

    def __init__(self, keystone_auth: dict | None = None) -> None:
        super().__init__()
        self.keystone_auth = keystone_auth

    def _setUp(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        self.glance = Glance(state, keystone_auth=self.keystone_auth)
        self.addCleanup(self.glance.stop, False)
        self.glance.start()
