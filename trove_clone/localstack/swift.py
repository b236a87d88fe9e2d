"""A real OpenStack Swift on loopback, with Keystone auth.

A proxy server (keystonemiddleware's ``auth_token`` and Swift's
``keystoneauth``: the ``admin`` and ``member`` roles of a project may use
that project's account ``AUTH_<project id>``, created on first use) and
an account, a container and an object server storing one replica on a
plain directory ``STATE/devices/d1`` (``mount_check = false``). The rings
(part power 8, one replica, one device) are built with
``swift-ring-builder`` when missing, and again when the servers' ports
changed. Every server runs in one process (``workers = 0``) bound to
127.0.0.1 and logs to ``LOG_DIR/swift-<server>.log`` (the console
handler; the syslog handler Swift always adds is removed by a small
logging hook written beside the configuration, so nothing goes to a
syslog that is not there).

The programs come from the ``swift`` virtualenv that
``tools/install-openstack-services`` makes. Used by trovestack and by the
functional tests (``SwiftFixture``).
"""
import getpass
import json
import os
import secrets
import tempfile

import fixtures

from trove_clone.common import secrets as secrets_files
from trove_clone.localstack import process

#: The servers, in the order they start (the proxy last: it needs the
#: others to answer).
SERVERS = ('account', 'container', 'object', 'proxy')
#: Swift's own default ports.
DEFAULT_PORTS = {'proxy': 8080, 'object': 6200, 'container': 6201,
                 'account': 6202}
#: What ``keystone_auth`` must give (the service user validating tokens:
#: it needs the ``service`` role).
KEYSTONE_AUTH_KEYS = ('auth_url', 'username', 'password', 'project_name')
#: The roles that may use their own project's account.
OPERATOR_ROLES = ('admin', 'member')
#: The role that may use every account.
RESELLER_ADMIN_ROLE = 'ResellerAdmin'
PART_POWER = 8

_LOGGING_HOOK = '''"""trove_clone's Swift logging hook: no syslog handler."""
import logging.handlers


def console_only(conf, name, log_to_console, log_route, fmt, logger,
                 adapted_logger):
    for handler in list(logger.handlers):
        if isinstance(handler, logging.handlers.SysLogHandler):
            logger.removeHandler(handler)
'''

_COMMON = """[DEFAULT]
bind_ip = 127.0.0.1
bind_port = %(port)d
workers = 0
user = %(user)s
swift_dir = %(dir)s
devices = %(devices)s
mount_check = false
disable_fallocate = true
log_name = %(server)s-server
log_level = INFO
log_custom_handlers = trove_clone_swift_logging.console_only
"""

_STORAGE = """
[pipeline:main]
pipeline = healthcheck %(server)s-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:%(server)s-server]
use = egg:swift#%(server)s
"""

_PROXY = """
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging listing_formats %(auth)s copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = false

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes

[filter:symlink]
use = egg:swift#symlink
"""  # noqa: E501

_KEYSTONE = """
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
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
delay_auth_decision = true
service_token_roles_required = true

[filter:keystoneauth]
use = egg:swift#keystoneauth
reseller_prefix = AUTH_
operator_roles = %(operator_roles)s
reseller_admin_role = %(reseller_admin_role)s
"""


class Swift(process.Service):
    """Swift serving ``url`` (``http://127.0.0.1:PROXY/v1``) from
    ``state_dir``, its logs in ``log_dir`` (``state_dir`` by default).

    ``ports`` maps ``proxy``, ``account``, ``container``, ``object`` to
    ports (free ones when missing); ``keystone_auth`` is the service user
    the proxy validates tokens as (``auth_url``, ``username``,
    ``password``, ``project_name`` in the Default domain).
    """

    def __init__(self, state_dir: str | None = None,
                 ports: dict | None = None,
                 keystone_auth: dict | None = None,
                 region: str = 'RegionOne',
                 log_dir: str | None = None) -> None:
        keystone_auth = keystone_auth or {}
        missing = [key for key in KEYSTONE_AUTH_KEYS
                   if not keystone_auth.get(key)]
        if missing:
            raise ValueError('keystone_auth lacks %s' % ', '.join(missing))
        self.keystone_auth = keystone_auth
        self.region = region
        self.state_dir = state_dir or tempfile.mkdtemp(prefix='trove-swift-')
        self.log_dir = log_dir or self.state_dir
        self.ports = {server: (ports or {}).get(server) or process.free_port()
                      for server in SERVERS}
        self.url = 'http://127.0.0.1:%d/v1' % self.ports['proxy']
        self.processes: dict = {}
        self.startup_seconds = 0.0

    # --- files -------------------------------------------------------------

    @property
    def devices(self) -> str:
        return os.path.join(self.state_dir, 'devices')

    def conf_path(self, server: str) -> str:
        return os.path.join(self.state_dir, '%s-server.conf' % server)

    def log_path(self, server: str) -> str:
        return os.path.join(self.log_dir, 'swift-%s.log' % server)

    def account_url(self, project_id: str) -> str:
        """The storage URL of a project's account."""
        return '%s/AUTH_%s' % (self.url, project_id)

    def conf_text(self, server: str) -> str:
        """The configuration of ``server``."""
        values = {'port': self.ports[server], 'user': getpass.getuser(),
                  'dir': self.state_dir, 'devices': self.devices,
                  'server': server}
        text = _COMMON % values
        if server != 'proxy':
            return text + _STORAGE % values
        return text + _PROXY % {'auth': 'authtoken keystoneauth'} + (
            _KEYSTONE % dict(
                self.keystone_auth, region=self.region,
                operator_roles=', '.join(OPERATOR_ROLES),
                reseller_admin_role=RESELLER_ADMIN_ROLE))

    def _write_swift_conf(self) -> None:
        """swift.conf with a hash path suffix made once (changing it would
        lose every object)."""
        path = os.path.join(self.state_dir, 'swift.conf')
        if os.path.exists(path):
            return
        secrets_files.write_private_file(path, (
            '[swift-hash]\nswift_hash_path_suffix = %s\n\n'
            '[storage-policy:0]\nname = Policy-0\ndefault = yes\n'
            % secrets.token_hex(16)))

    def _build_rings(self) -> None:
        """The three rings, one device each, unless built for these
        ports already."""
        record = os.path.join(self.state_dir, 'rings.json')
        wanted = {server: self.ports[server] for server in SERVERS
                  if server != 'proxy'}
        try:
            with open(record) as source:
                if json.load(source) == wanted and all(
                        os.path.exists(os.path.join(
                            self.state_dir, '%s.ring.gz' % ring))
                        for ring in wanted):
                    return
        except (OSError, ValueError):
            pass
        builder = process.venv_bin('swift', 'swift-ring-builder')
        log = os.path.join(self.state_dir, 'setup.log')
        for ring, port in wanted.items():
            path = os.path.join(self.state_dir, '%s.builder' % ring)
            for stale in (path, os.path.join(self.state_dir,
                                             '%s.ring.gz' % ring)):
                if os.path.exists(stale):
                    os.remove(stale)
            process.run([builder, path, 'create', str(PART_POWER), '1', '1'],
                        log_path=log)
            process.run([builder, path, 'add', '--region', '1', '--zone',
                         '1', '--ip', '127.0.0.1', '--port', str(port),
                         '--device', 'd1', '--weight', '100'], log_path=log)
            process.run([builder, path, 'rebalance'], log_path=log)
        with open(record, 'w') as target:
            json.dump(wanted, target)

    def prepare(self) -> None:
        """Configuration, device and rings (starts nothing)."""
        os.makedirs(os.path.join(self.devices, 'd1'), exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        self._write_swift_conf()
        self._build_rings()
        with open(os.path.join(self.state_dir,
                               'trove_clone_swift_logging.py'), 'w') as hook:
            hook.write(_LOGGING_HOOK)
        for server in SERVERS:
            # 0600: the proxy's holds the service user's password.
            secrets_files.write_private_file(self.conf_path(server),
                                             self.conf_text(server))

    # --- processes ---------------------------------------------------------

    def start_server(self, server: str):
        """Start one server (prepare first); returns its Popen."""
        # The logging hook's module is in state_dir; the warnings of
        # Swift's dependencies at import are noise in its logs.
        env = dict(os.environ, PYTHONPATH=self.state_dir,
                   PYTHONWARNINGS='ignore')
        child = process.start(
            [process.venv_bin('swift', 'swift-%s-server' % server),
             self.conf_path(server), '--verbose'],
            env, self.log_path(server))
        self.processes[server] = child
        return child

    def wait_server(self, server: str, timeout: float = 60) -> float:
        """Wait until ``server`` answers its health check."""
        return process.wait_http(
            'http://127.0.0.1:%d/healthcheck' % self.ports[server],
            self.processes[server], timeout, self.log_path(server))

    def start(self) -> 'Swift':
        self.prepare()
        for server in SERVERS:
            self.start_server(server)
        try:
            self.startup_seconds = max(self.wait_server(server)
                                       for server in SERVERS)
        except BaseException:
            self.stop(remove=False)
            raise
        return self

    def stop(self, remove: bool = True) -> None:
        for child in reversed(list(self.processes.values())):
            process.stop(child)
        super().stop(remove)


def service_user(client, username: str, password: str,
                 project_name: str = 'service') -> None:
    """The user ``username`` with the ``service`` role on the project
    ``project_name`` (made when missing), as the proxy validates tokens:
    ``client`` is an admin's python-keystoneclient."""
    projects = client.projects.list(domain='default', name=project_name)
    project = projects[0] if projects else client.projects.create(
        project_name, 'default')
    user = client.users.create(username, domain='default',
                               password=password, default_project=project)
    roles = client.roles.list(name='service')
    role = roles[0] if roles else client.roles.create('service')
    client.roles.grant(role, user=user, project=project)


class SwiftFixture(fixtures.Fixture):
    """Swift for a test against a Keystone (a ``localstack.keystone.
    Keystone``): a ``swift`` service user with the ``service`` role is
    made, and the catalog gets the ``object-store`` service at
    ``AUTH_$(project_id)s``; stopped and removed at cleanup.

    ``reseller_admin`` (the Keystone ``admin`` by default, the service
    user of the test deployments' trove-api) gets the ``ResellerAdmin``
    role on the ``admin`` project, as trovestack gives it to ``trove``:
    its tokens may use every project's account.
    """

    def __init__(self, keystone, reseller_admin: str | None = 'admin'
                 ) -> None:
        super().__init__()
        self.keystone = keystone
        self.reseller_admin = reseller_admin

    def _setUp(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        password = secrets.token_urlsafe(18)
        service_user(self.keystone.admin_client(), 'swift', password)
        self.swift = Swift(state, keystone_auth={
            'auth_url': self.keystone.url, 'username': 'swift',
            'password': password, 'project_name': 'service'})
        self.addCleanup(self.swift.stop, False)
        self.swift.start()
        self.keystone.register_service(
            'object-store', 'swift', self.swift.url + '/AUTH_$(project_id)s')
        if self.reseller_admin:
            client = self.keystone.admin_client()
            roles = client.roles.list(name=RESELLER_ADMIN_ROLE)
            role = roles[0] if roles else client.roles.create(
                RESELLER_ADMIN_ROLE)
            client.roles.grant(
                role, user=client.users.list(name=self.reseller_admin)[0],
                project=client.projects.list(name='admin')[0])
