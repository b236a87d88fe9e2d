"""A real Keystone on loopback: SQLite, fernet tokens, gunicorn."""
import os
import secrets
import tempfile

import fixtures
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client

from trove_clone.common import secrets as secrets_files
from trove_clone.localstack import process

REGION = 'RegionOne'


class Keystone(process.Service):
    """Keystone with an admin user and project, in ``state_dir``.

    ``url`` is the identity endpoint (``http://127.0.0.1:PORT/v3``);
    ``admin_password`` the admin's password (random unless given: start
    sets it, also on a Keystone bootstrapped before).
    """

    def __init__(self, state_dir: str | None = None,
                 port: int | None = None,
                 token_expiration: int = 3600,
                 admin_password: str | None = None) -> None:
        self.admin_password = admin_password or secrets.token_urlsafe(18)
        self.state_dir = state_dir or tempfile.mkdtemp(
            prefix='trove-keystone-')
        self.port = port or process.free_port()
        self.url = 'http://127.0.0.1:%d/v3' % self.port
        self.conf_path = os.path.join(self.state_dir, 'keystone.conf')
        self.log_path = os.path.join(self.state_dir, 'keystone.log')
        self.token_expiration = token_expiration
        self.process = None
        self.startup_seconds = 0.0

    def _write_conf(self) -> None:
        for name in ('fernet-keys', 'credential-keys'):
            secrets_files.make_private_dirs(os.path.join(self.state_dir,
                                                         name))
        with open(self.conf_path, 'w') as conf:
            conf.write(
                '[DEFAULT]\nlog_file = %(log)s\n'
                '[database]\nconnection = sqlite:///%(dir)s/keystone.db\n'
                '[token]\nprovider = fernet\nexpiration = %(expiration)d\n'
                '[fernet_tokens]\nkey_repository = %(dir)s/fernet-keys\n'
                '[credential]\nkey_repository = %(dir)s/credential-keys\n'
                '[cache]\nenabled = false\n'
                % {'dir': self.state_dir, 'log': self.log_path,
                   'expiration': self.token_expiration})

    def start(self) -> 'Keystone':
        self._write_conf()
        manage = process.venv_bin('keystone', 'keystone-manage')
        base = [manage, '--config-file', self.conf_path]
        setup_log = os.path.join(self.state_dir, 'setup.log')
        process.run(base + ['db_sync'], log_path=setup_log)
        for command in ('fernet_setup', 'credential_setup'):
            process.run(base + [command, '--keystone-user', 'root',
                                '--keystone-group', 'root'],
                        log_path=setup_log)
        public = 'http://127.0.0.1:%d/v3' % self.port
        # The password goes in the environment: the command line is logged
        # and visible to every user in ps. Bootstrap sets it again on a
        # Keystone bootstrapped before.
        process.run(base + ['bootstrap', '--bootstrap-admin-url', public,
                            '--bootstrap-public-url', public,
                            '--bootstrap-internal-url', public,
                            '--bootstrap-region-id', REGION],
                    env=dict(os.environ,
                             OS_BOOTSTRAP_PASSWORD=self.admin_password),
                    log_path=setup_log)
        # Keystone parses sys.argv with oslo.config: give it an empty one.
        with open(os.path.join(self.state_dir, 'keystone_wsgi.py'),
                  'w') as module:
            module.write('import sys\nsys.argv = sys.argv[:1]\n'
                         'from keystone.wsgi.api import application\n')
        env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.conf_path)
        self.process = process.start(
            process.gunicorn_argv('keystone', self.port, self.state_dir,
                                  'keystone_wsgi:application'),
            env, os.path.join(self.state_dir, 'gunicorn.log'))
        self.startup_seconds = process.wait_http(
            self.url, self.process, 60,
            os.path.join(self.state_dir, 'gunicorn.log'))
        return self

    # --- administration, as the admin user, over HTTP --------------------

    def session(self, username: str = 'admin',
                password: str | None = None,
                project_name: str = 'admin') -> ks_session.Session:
        """A session of ``username`` (the admin, with its password, by
        default)."""
        if password is None:
            password = self.admin_password
        auth = v3.Password(auth_url=self.url, username=username,
                           password=password, project_name=project_name,
                           user_domain_id='default',
                           project_domain_id='default')
        return ks_session.Session(auth=auth)

    def admin_client(self) -> ks_client.Client:
        return ks_client.Client(session=self.session(), interface='public')

    def create_project_user(self, project_name: str, username: str,
                            password: str, role: str = 'member') -> dict:
        """A project with a user holding ``role`` on it; ids returned."""
        client = self.admin_client()
        project = client.projects.create(project_name, 'default')
        user = client.users.create(username, domain='default',
                                   password=password,
                                   default_project=project)
        client.roles.grant(self._role(client, role), user=user,
                           project=project)
        return {'project_id': project.id, 'user_id': user.id,
                'project_name': project_name, 'username': username,
                'password': password}

    @staticmethod
    def _role(client, name: str):
        found = [role for role in client.roles.list() if role.name == name]
        return found[0] if found else client.roles.create(name)

    def register_service(self, service_type: str, name: str,
                         url: str) -> None:
        """A catalog entry with public, internal and admin endpoints."""
        client = self.admin_client()
        service = client.services.create(name, type=service_type)
        for interface in ('public', 'internal', 'admin'):
            client.endpoints.create(service, url, interface=interface,
                                    region=REGION)

    def token(self, username: str, password: str, project_name: str) -> str:
        return self.session(username, password, project_name).get_token()


class KeystoneFixture(fixtures.Fixture):
    """Keystone for a test, with a random admin password
    (``admin_password``); stopped and removed at cleanup."""

    def __init__(self, token_expiration: int = 3600) -> None:
        super().__init__()
        self.token_expiration = token_expiration

    def _setUp(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        self.keystone = Keystone(state,
                                 token_expiration=self.token_expiration)
        self.addCleanup(self.keystone.stop, False)
        self.keystone.start()
        self.admin_password = self.keystone.admin_password
