"""Redis: redis-server on the server's address, port 6379.

It is started with ``<data_dir>/redis.conf``, which includes first
``<data_dir>/trove.conf``: the settings rendered from
templates/redis/config.template for the flavor each time it starts,
and last ``<data_dir>/overrides.conf``, the attached configuration group
(overrides.py).

Nobody gets in without a password: the ``default`` user is off (no
password, no commands) in the ACL file ``<data_dir>/users.acl``, which
the agent rewrites at every start, so a tenant's ``ACL SETUSER default
on nopass`` lasts until the next restart at most. The agent logs in as its
own ACL user ``os_admin``, whose random password is in
``<volume>/agent/redis-password`` (0600, the agent's only); the tenant's
users, created through the API, are the only other way in.
"""
import hashlib
import os
import socket
import subprocess
import time

from oslo_log import log as logging
import redis

from trove_clone.guestagent.capabilities import cluster
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides
from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores.redis import descriptor
from trove_clone.guestagent.datastores import templating

LOG = logging.getLogger(__name__)

#: The agent's own ACL user (the os_ prefix is reserved to the agent).
AGENT_USER = 'os_admin'
#: The ACL user cluster members log in to each other with.
CLUSTER_USER = 'os_cluster'
#: The file of its password, in the agent's directory.
PASSWORD_FILE = 'redis-password'
#: The ACL rules of the default user: off, no password, nothing allowed.
DEFAULT_USER_RULES = ('off', 'resetpass', 'resetkeys', 'resetchannels',
                      '-@all')


def secured_acl(text: str, agent_password: str,
                cluster_password: str | None = None) -> str:
    """The ACL file ``text`` with the default user disabled and the
    agent's user (every permission, only ``agent_password``) first, and,
    on a cluster member, the members' user ``os_cluster`` (only
    ``cluster_password``); the tenant's users are kept as they are."""
    kept = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[:2] in (['user', 'default'],
                                      ['user', AGENT_USER],
                                      ['user', CLUSTER_USER]):
            continue
        kept.append(line)
    digest = hashlib.sha256(agent_password.encode()).hexdigest()
    agents = ['user %s on #%s ~* &* +@all' % (AGENT_USER, digest)]
    if cluster_password:
        agents.append('user %s on #%s ~* &* +@all' % (
            CLUSTER_USER, hashlib.sha256(
                cluster_password.encode()).hexdigest()))
    return '\n'.join([
        'user default %s' % ' '.join(DEFAULT_USER_RULES)] + agents +
        kept) + '\n'


class FromOwnAddress(redis.Connection):
    """A connection from the instance's own address, the one source the
    filter of the allowed CIDRs always lets in (source_filter)."""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(
            (self.host, self.port), self.socket_connect_timeout,
            source_address=(self.host, 0))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.socket_timeout)
        return sock


class RedisLifecycle(base.Lifecycle):

    port = descriptor.ENGINE.port
    system_user = 'redis'

    @property
    def conf_path(self) -> str:
        return os.path.join(self.data_dir, 'redis.conf')

    @property
    def acl_path(self) -> str:
        """The ACL file where ``ACL SAVE`` keeps the users."""
        return os.path.join(self.data_dir, 'users.acl')

    @property
    def generated_conf_path(self) -> str:
        """The settings the agent renders for the flavor, included at the
        top of redis.conf."""
        return os.path.join(self.data_dir, 'trove.conf')

    @property
    def overrides_path(self) -> str:
        """The settings of the configuration group, included at the end of
        redis.conf."""
        return os.path.join(self.data_dir, 'overrides.conf')

    def _context(self) -> dict:
        """What the template (templates/redis/config.template) sees."""
        return {
            'flavor': templating.flavor(self.ram_mb),
            'address': self.address, 'port': self.port,
            'data_dir': self.data_dir,
            'pid_file': os.path.join(self.data_dir, 'redis.pid'),
            'acl_file': self.acl_path,
            'replica': self._replica_source(),
            'cluster': cluster.load_state(self) or None,
        }

    def _replica_source(self) -> dict | None:
        """The source this server follows (replication state), None
        when it follows none."""
        state = replication.load_state(self)
        if state.get('role') != 'replica':
            return None
        return state.get('source')

    def _write_conf(self) -> None:
        """Render trove.conf for the flavor."""
        templating.write('redis', self._context(), self.generated_conf_path,
                         self._user())

    @property
    def agent_password(self) -> str:
        """The password of the agent's ACL user (read once)."""
        if not getattr(self, '_agent_password', None):
            self._agent_password = self.agent_secret(PASSWORD_FILE)
        return self._agent_password

    def _secure_acl(self) -> None:
        """Rewrite the ACL file: default user off, the agent's user with
        its password, the tenant's users kept."""
        try:
            with open(self.acl_path) as acl:
                current = acl.read()
        except FileNotFoundError:
            current = ''
        overrides.replace_file(self.acl_path, secured_acl(
            current, self.agent_password,
            cluster.load_state(self).get('secret')), self._user())
        os.chmod(self.acl_path, 0o600)

    def _include_generated_conf(self) -> None:
        """Make redis.conf include trove.conf first.

        redis.conf is the file Redis is started with, the one CONFIG
        REWRITE keeps: its own lines come after the include and win (Redis
        takes the last value it reads), so they survive a new flavor.
        """
        include = 'include %s\n' % self.generated_conf_path
        try:
            with open(self.conf_path) as conf:
                current = conf.read()
        except FileNotFoundError:
            current = ''
        if include in current:
            return
        overrides.replace_file(
            self.conf_path, '# The settings of the trove_clone guest agent, '
            'sized by the flavor; lines\n# below override them.\n' +
            include + current, self._user())

    def _include_overrides_conf(self) -> None:
        """Make redis.conf include overrides.conf last (creating it empty
        if missing: Redis refuses to start on a missing include), so that
        the configuration group wins over the lines CONFIG REWRITE may
        have added after the include. Without redis.conf (never prepared),
        Redis reports the problem itself."""
        include = 'include %s' % self.overrides_path
        try:
            with open(self.conf_path) as conf:
                lines = conf.read().splitlines()
        except FileNotFoundError:
            return
        if not os.path.lexists(self.overrides_path):
            overrides.replace_file(self.overrides_path, '', self._user())
        if lines and lines[-1] == include:
            return
        lines = [line for line in lines if line != include] + [include]
        overrides.replace_file(self.conf_path, '\n'.join(lines) + '\n',
                               self._user())

    def prepare(self) -> None:
        self.private_dir(self.data_dir)
        self._write_conf()
        self._include_generated_conf()
        self.start()

    def start(self) -> None:
        if os.path.isdir(self.data_dir):
            self._own(self.data_dir)
            self.private_dir(self.data_dir)
        # The flavor may have changed since the last start (a resize).
        self._write_conf()
        # Also creates the file: Redis refuses to start without it.
        self._secure_acl()
        self._include_overrides_conf()
        self.process = self._spawn([self.programs['server'],
                                    self.conf_path])
        self.wait_until_healthy()

    def stop(self, timeout: float = 120.0) -> None:
        """Stop Redis cleanly. Redis drops a SIGTERM that comes while it
        writes its first append-only file ("Writing initial AOF, can't
        exit": a replica that just synced), so the signal is sent again
        every second until it exits."""
        if not self.is_running():
            return
        # Asked for: its exit is not reported as a crash (base.stop).
        self._stopping = True
        deadline = time.monotonic() + timeout
        while True:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(max(min(1.0, deadline - time.monotonic()),
                                      0.01))
                return
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    break
        LOG.warning('Redis (pid %d) did not stop in %d s: killing it.',
                    self.process.pid, timeout)
        self.process.kill()
        self.process.wait()

    def client(self, timeout: float = 10, decode_responses: bool = False,
               username: str = AGENT_USER,
               password: str | None = None) -> redis.Redis:
        """A redis-py client from the instance's own address, logged in as
        the agent's ACL user (or ``username`` with ``password``); the
        caller closes it."""
        return redis.Redis.from_pool(redis.ConnectionPool(
            connection_class=FromOwnAddress, host=self.address,
            port=self.port, username=username,
            password=self.agent_password if password is None else password,
            socket_timeout=timeout,
            socket_connect_timeout=min(timeout, 5),
            decode_responses=decode_responses))

    def is_healthy(self) -> bool:
        client = self.client(timeout=1)
        try:
            return client.ping() is True
        except redis.RedisError:
            return False
        finally:
            client.close()
