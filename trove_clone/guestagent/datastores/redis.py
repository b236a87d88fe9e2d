"""Redis: redis-server on the server's address, port 6379.

It is started with ``<data_dir>/redis.conf``, which includes first
``<data_dir>/trove.conf``: the settings rendered from
templates/redis/config.template for the flavor each time it starts,
and last ``<data_dir>/overrides.conf``, the attached configuration group
(redis_overrides).
"""
import os
import socket

import redis

from trove_clone.guestagent.datastores import base
from trove_clone.guestagent.datastores import templating


class RedisLifecycle(base.Lifecycle):

    port = 6379
    system_user = None

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
        }

    def _write_conf(self) -> None:
        """Render trove.conf for the flavor."""
        templating.write('redis', self._context(), self.generated_conf_path)

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
        with open(self.conf_path, 'w') as conf:
            conf.write('# The settings of the trove_clone guest agent, sized '
                       'by the flavor; lines\n# below override them.\n')
            conf.write(include)
            conf.write(current)

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
        if not os.path.exists(self.overrides_path):
            open(self.overrides_path, 'a').close()
        if lines and lines[-1] == include:
            return
        lines = [line for line in lines if line != include] + [include]
        with open(self.conf_path, 'w') as conf:
            conf.write('\n'.join(lines) + '\n')

    def prepare(self) -> None:
        os.makedirs(self.data_dir, exist_ok=True)
        self._write_conf()
        self._include_generated_conf()
        self.start()

    def start(self) -> None:
        # The flavor may have changed since the last start (a resize).
        self._write_conf()
        if not os.path.exists(self.acl_path):
            # Redis refuses to start on a missing ACL file.
            open(self.acl_path, 'a').close()
        self._include_overrides_conf()
        self.process = self._spawn([self.programs['server'],
                                    self.conf_path])
        self.wait_until_healthy()

    def _command(self, command: bytes, timeout: float = 1.0) -> bytes:
        with socket.create_connection((self.address, self.port),
                                      timeout) as connection:
            connection.sendall(command)
            return connection.recv(256)

    def client(self, timeout: float = 10,
               decode_responses: bool = False) -> redis.Redis:
        """A redis-py client of the default user (the agent's own
        access); the caller closes it."""
        return redis.Redis(host=self.address, port=self.port,
                           socket_timeout=timeout,
                           decode_responses=decode_responses)

    def is_healthy(self) -> bool:
        try:
            return self._command(b'PING\r\n').startswith(b'+PONG')
        except OSError:
            return False
