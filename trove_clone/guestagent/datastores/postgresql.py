"""PostgreSQL: a cluster in ``<data_dir>/pgdata``, postgres in the
foreground as the agent's child, on the server's address, port 5432.

The agent talks to it as the ``postgres`` superuser over the Unix socket in
``<data_dir>/run`` (trusted locally); clients over TCP need a password
(scram-sha-256).

The settings rendered from templates/postgresql/config.template are in
``pgdata/trove.conf``, included at the end of postgresql.conf; its last
line includes ``pgdata/overrides.conf``, the attached configuration group
(postgresql_overrides).
"""
import hashlib
import os
import signal
import tempfile

import psycopg

from trove_clone.guestagent.datastores import base
from trove_clone.guestagent.datastores import templating

#: The longest path of a Unix socket (sun_path, with its final NUL).
SOCKET_PATH_MAX = 107


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
        """Where the server's Unix socket lives: beside the data, unless
        that path is too long for a socket (107 bytes), then under the
        system's temporary directory, named after the data directory."""
        beside = os.path.join(self.data_dir, 'run')
        if len(beside) + len('/.s.PGSQL.%d' % self.port) < SOCKET_PATH_MAX:
            return beside
        digest = hashlib.sha256(self.data_dir.encode()).hexdigest()[:16]
        return os.path.join(tempfile.gettempdir(), 'trove-pg-%s' % digest)

    @property
    def conf_path(self) -> str:
        """The settings the agent generates, included from
        postgresql.conf."""
        return os.path.join(self.pgdata, 'trove.conf')

    @property
    def overrides_path(self) -> str:
        """The settings of the configuration group, included at the end of
        trove.conf."""
        return os.path.join(self.pgdata, 'overrides.conf')

    def _context(self) -> dict:
        """What the template (templates/postgresql/config.template)
        sees."""
        return {
            'flavor': templating.flavor(self.ram_mb),
            'address': self.address, 'port': self.port,
            'data_dir': self.data_dir, 'pgdata': self.pgdata,
            'run_dir': self.run_dir,
        }

    def _write_conf(self) -> None:
        """Render trove.conf for the flavor; the cluster's own files (and
        ALTER SYSTEM's postgresql.auto.conf) are left alone."""
        templating.write('postgresql', self._context(), self.conf_path,
                         self._user())

    def initdb(self, pgdata: str, options: tuple[str, ...] = ()) -> None:
        """Create a cluster in ``pgdata`` (also used by upgrades, which
        add the old cluster's locale in ``options``)."""
        self._run([self.programs['initdb'], '-D', pgdata,
                   '-U', 'postgres', '--auth-local=trust',
                   '--auth-host=scram-sha-256', '--encoding=UTF8',
                   '--data-checksums'] + list(options), 'initdb')

    def prepare(self) -> None:
        os.makedirs(self.run_dir, exist_ok=True)
        self._own(self.data_dir)
        if not os.path.exists(os.path.join(self.pgdata, 'PG_VERSION')):
            self.initdb(self.pgdata)
        self._write_conf()
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
        if os.path.exists(os.path.join(self.pgdata, 'PG_VERSION')):
            # The flavor may have changed since the last start (a resize).
            # Without a cluster, postgres reports the problem itself.
            self._write_conf()
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
