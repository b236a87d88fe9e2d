"""Upgrades of MariaDB (also the mysql manager).

pre_upgrade stops mariadbd cleanly (a slow InnoDB shutdown,
``innodb_fast_shutdown = 0``, when the major version changes, as MariaDB
asks before a major upgrade) and copies the data directory (the data,
my.cnf and overrides.cnf) to ``<volume>/upgrade/data.backup``.
post_upgrade starts the new mariadbd on the data (its lifecycle renders
my.cnf again) and, when the image's manifest has an ``upgrade`` program
(mariadb-upgrade), runs it to bring the system tables up to date;
on failure the copy is put back. Downgrades of major.minor (11.4 → 10.11)
are refused.
"""
import subprocess

import pymysql

from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import upgrade

#: How long mariadb-upgrade may take.
UPGRADE_TIMEOUT = 1800


class MariadbUpgrade(upgrade.Upgrade):
    """Upgrades of a :class:`mariadb.MariadbLifecycle`."""

    datastore = 'mariadb'
    major_width = 2

    def before_stop(self, info: dict) -> None:
        if not self.major_changes(info):
            return
        try:
            connection = self.engine.connect()
            try:
                with connection.cursor() as cursor:
                    cursor.execute('SET GLOBAL innodb_fast_shutdown = 0')
            finally:
                connection.close()
        except pymysql.Error as error:
            raise base.EngineError('MariaDB failed: %s' % error) from error

    def start(self, info: dict) -> None:
        self.engine.start()
        program = self.engine.programs.get('upgrade')
        if not program:
            return
        # As the agent's own user: root logs in over the socket by
        # unix_socket authentication, as the agent's connections do.
        result = subprocess.run(
            [program, '--no-defaults',
             '--socket=%s' % self.engine.socket_path,
             '--user=root', '--silent'],
            capture_output=True, text=True, timeout=UPGRADE_TIMEOUT)
        if result.returncode:
            raise base.EngineError('mariadb-upgrade failed: %s' % (
                (result.stderr or result.stdout).strip()[-500:],))
