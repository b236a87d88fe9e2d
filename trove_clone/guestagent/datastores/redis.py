"""Redis: redis-server on the server's address, port 6379."""
import os
import socket

from trove_clone.guestagent.datastores import base


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

    def _write_conf(self) -> None:
        # Redis keeps its data in memory: leave a quarter of the flavor to
        # the agent, the forks of persistence and the allocator.
        maxmemory = self.ram_mb * 1024 * 1024 * 3 // 4
        settings = {
            'bind': self.address, 'port': self.port,
            'dir': self.data_dir, 'daemonize': 'no',
            'protected-mode': 'no', 'appendonly': 'yes',
            'appendfsync': 'everysec', 'maxmemory': maxmemory,
            'maxmemory-policy': 'noeviction',
            'repl-diskless-sync-delay': 0,
            'pidfile': os.path.join(self.data_dir, 'redis.pid'),
            'aclfile': self.acl_path,
        }
        with open(self.conf_path, 'w') as conf:
            for key, value in settings.items():
                conf.write('%s %s\n' % (key, value))

    def prepare(self) -> None:
        os.makedirs(self.data_dir, exist_ok=True)
        self._write_conf()
        self.start()

    def start(self) -> None:
        if not os.path.exists(self.acl_path):
            # Redis refuses to start on a missing ACL file.
            open(self.acl_path, 'a').close()
        self.process = self._spawn([self.programs['server'],
                                    self.conf_path])
        self.wait_until_healthy()

    def _command(self, command: bytes, timeout: float = 1.0) -> bytes:
        with socket.create_connection((self.address, self.port),
                                      timeout) as connection:
            connection.sendall(command)
            return connection.recv(256)

    def is_healthy(self) -> bool:
        try:
            return self._command(b'PING\r\n').startswith(b'+PONG')
        except OSError:
            return False
