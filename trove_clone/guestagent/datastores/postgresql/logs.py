"""Guest logs of PostgreSQL: ``general`` (USER), the server's log (its
standard error, the engine log), as Trove names it.

The server always writes its errors there. Turning the general log on
makes it record statements that run longer than
``log_min_duration_statement``: ``pgdata/logs.conf``, included by
trove.conf before the configuration group's file, sets it to the
request's ``long_query_ms`` (guest_log_long_query_time), and the server
reloads its files (live); a configuration group that sets
``log_min_duration_statement`` (or ``log_statement``) wins. Turned off,
logs.conf is empty again.
"""
import time

import psycopg

from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import logs
from trove_clone.guestagent.datastores.postgresql import overrides

#: How long a reload may take to reach new sessions.
RELOAD_TIMEOUT = 10.0
SETTING = 'log_min_duration_statement'


def render(enabled: set[str], long_query_ms: int) -> str:
    """logs.conf for the logs ``enabled``."""
    lines = ['# The guest logs turned on (written by the agent).']
    if 'general' in enabled:
        lines.append('%s = %d' % (SETTING, long_query_ms))
    return '\n'.join(lines) + '\n'


class PostgresqlLogs(logs.GuestLogs):

    def specs(self) -> list[logs.LogSpec]:
        return [logs.LogSpec('general', logs.USER, self.engine.log_path)]

    def _group_setting(self) -> str | None:
        try:
            with open(self.engine.overrides_path) as source:
                text = source.read()
        except FileNotFoundError:
            return None
        return overrides.parse_settings(text).get(SETTING)

    def switch(self, enabled: set[str], request: dict) -> bool:
        long_query_ms = int(request.get('long_query_ms') or 0)
        self.engine.write_logs_conf(render(enabled, long_query_ms))
        expected = self._group_setting()
        if expected is None:
            expected = str(long_query_ms) if 'general' in enabled else '-1'
        deadline = time.monotonic() + RELOAD_TIMEOUT
        try:
            with self.engine.connect() as connection:
                connection.execute('SELECT pg_reload_conf()')
            # New sessions see the files once the postmaster has read
            # them; the caller's next statements must be logged.
            while time.monotonic() < deadline:
                with self.engine.connect() as connection:
                    row = connection.execute(
                        'SELECT setting FROM pg_settings WHERE name = %s',
                        (SETTING,)).fetchone()
                if row and row[0] == expected:
                    break
                time.sleep(0.1)
        except psycopg.Error as error:
            raise base.EngineError('PostgreSQL failed: %s' % error) from error
        return True
