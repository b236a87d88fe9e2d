"""A real Glance on loopback: SQLite metadata, file store, no keystone."""
import os
import shutil
import tempfile

import fixtures

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
flavor =
config_file = %(paste)s
[image_format]
# Guest images are archives of a guest environment, not disk images: do not
# refuse them because their content is not the declared disk format.
require_image_format_match = false
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
"""


class Glance(process.Service):
    """Glance serving ``url`` from ``state_dir``."""

    def __init__(self, state_dir: str | None = None,
                 port: int | None = None) -> None:
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

    def start(self) -> 'Glance':
        for name in ('images', 'staging', 'tasks'):
            os.makedirs(os.path.join(self.state_dir, name), exist_ok=True)
        conf_path = os.path.join(self.state_dir, 'glance-api.conf')
        with open(conf_path, 'w') as conf:
            conf.write(_CONF % {'dir': self.state_dir,
                                'paste': self._paste_ini()})
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
    """Glance for a test; stopped and removed at cleanup."""

    def _setUp(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        self.glance = Glance(state)
        self.addCleanup(self.glance.stop, False)
        self.glance.start()
