"""PostgreSQL: a cluster in ``<data_dir>/pgdata``, postgres in the
foreground as the agent's child, on the server's address, port 5432.

The agent talks to it as the ``postgres`` superuser over the Unix socket in
``<data_dir>/run`` (trusted locally); clients over TCP need a password
(scram-sha-256).
"""
import os
import signal

import psycopg

from trove_clone.guestagent.datastores import base


class PostgresqlLifecycle(base.Lifecycle):

    port = 5432
    system_user = 'postgres'
    # SIGINT: fast shutdown, a clean checkpoint, no crash recovery.
    stop_signal = signal.SIGINT

    @property
    def pgdata(self) -> str:
        return os.path.join(self.data_dir, 'pgdata')

    @property
    def run_dir(self) -> str:
        return os.path.join(self.data_dir, 'run')

    def _settings(self) -> dict:
        ram = self.ram_mb
        return {
            'listen_addresses': "'%s'" % self.address, 'port': self.port,
            'unix_socket_directories': "'%s'" % self.run_dir,
            'max_connections': 100,
            'shared_buffers': '%dMB' % max(ram // 4, 16),
            'effective_cache_size': '%dMB' % max(ram * 3 // 4, 32),
            'maintenance_work_mem': '%dMB' % max(ram // 16, 16),
            'wal_level': 'replica', 'wal_log_hints': 'on',
            'max_wal_senders': 10, 'wal_keep_size': '128MB',
            'logging_collector': 'off',
        }

    def prepare(self) -> None:
        os.makedirs(self.run_dir, exist_ok=True)
        self._own(self.data_dir)
        if not os.path.exists(os.path.join(self.pgdata, 'PG_VERSION')):
            self._run([self.programs['initdb'], '-D', self.pgdata,
                       '-U', 'postgres', '--auth-local=trust',
                       '--auth-host=scram-sha-256', '--encoding=UTF8',
                       '--data-checksums'], 'initdb')
        conf = os.path.join(self.pgdata, 'trove.conf')
        with open(conf, 'w') as target:
            for key, value in self._settings().items():
                target.write('%s = %s\n' % (key, value))
        main = os.path.join(self.pgdata, 'postgresql.conf')
        with open(main) as source:
            included = "include_if_exists = 'trove.conf'" in source.read()
        if not included:
            with open(main, 'a') as target:
                target.write("\ninclude_if_exists = 'trove.conf'\n")
        rule = 'host all all 0.0.0.0/0 scram-sha-256\n'
        hba_path = os.path.join(self.pgdata, 'pg_hba.conf')
        with open(hba_path) as hba:
            present = rule in hba.read()
        if not present:
            with open(hba_path, 'a') as hba:
                hba.write(rule)
        self._own(self.data_dir)
        self.start()

    def start(self) -> None:
        os.makedirs(self.run_dir, exist_ok=True)
        self._own(self.run_dir)
        self.process = self._spawn([self.programs['postgres'], '-D',
                                    self.pgdata])
        self.wait_until_healthy()

    def connect(self, dbname: str = 'postgres') -> psycopg.Connection:
        """A superuser connection over the local socket."""
        return psycopg.connect(host=self.run_dir, port=self.port,
                               user='postgres', dbname=dbname,
                               connect_timeout=2, autocommit=True)

    def is_healthy(self) -> bool:
        try:
            with self.connect() as connection:
                return connection.execute('SELECT 1').fetchone() == (1,)
        except psycopg.Error:
            return False
