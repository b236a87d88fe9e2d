"""Guest logs of MariaDB (the mysql and mariadb managers): the general
and slow query logs (USER) in ``<data_dir>/logs/``, the server's error
output (SYS, the engine log).

Turning a log on or off is live (``SET GLOBAL general_log`` /
``slow_query_log`` with the log's file) and kept for the next starts in
``<data_dir>/logs.cnf``, which my.cnf includes before the configuration
group's file: a configuration group that sets these options wins at the
next start. The slow query log takes ``long_query_time`` from the
configuration group; without one there, from the request's
``long_query_ms`` (guest_log_long_query_time).
"""
import os

from trove_clone.guestagent.capabilities import logs
from trove_clone.guestagent.datastores.mariadb import overrides

#: USER log name: (the server's switch, the variable naming its file).
SWITCHES = {'general': ('general_log', 'general_log_file'),
            'slow_query': ('slow_query_log', 'slow_query_log_file')}


def render(enabled: set[str], paths: dict, long_query_s: float | None
           ) -> str:
    """logs.cnf for the logs ``enabled``."""
    lines = ['# The guest logs turned on (written by the agent).',
             '[%s]' % overrides.SECTION]
    for name, (switch, file_variable) in sorted(SWITCHES.items()):
        if name in enabled:
            lines.append('%s = %s' % (file_variable,
                                      overrides.option_value(paths[name])))
            lines.append('%s = ON' % switch)
    if long_query_s is not None and 'slow_query' in enabled:
        lines.append('long_query_time = %s' % long_query_s)
    return '\n'.join(lines) + '\n'


class MariadbLogs(logs.GuestLogs):

    @property
    def log_dir(self) -> str:
        return os.path.join(self.engine.data_dir, 'logs')

    def specs(self) -> list[logs.LogSpec]:
        return [logs.LogSpec('general', logs.USER,
                             os.path.join(self.log_dir, 'general.log')),
                logs.LogSpec('slow_query', logs.USER,
                             os.path.join(self.log_dir, 'slow_query.log')),
                logs.LogSpec('error', logs.SYS, self.engine.log_path)]

    def _group_sets_long_query_time(self) -> bool:
        try:
            with open(self.engine.overrides_path) as source:
                text = source.read()
        except FileNotFoundError:
            return False
        return 'long_query_time' in overrides.parse_options(text)

    def switch(self, enabled: set[str], request: dict) -> bool:
        self.engine.private_dir(self.log_dir)
        paths = {spec.name: spec.path for spec in self.specs()}
        long_query_s = None
        if not self._group_sets_long_query_time():
            long_query_s = int(request.get('long_query_ms') or 0) / 1000.0
        self.engine.write_logs_conf(render(enabled, paths, long_query_s))
        with self.engine.cursor() as cursor:
            for name, (switch, file_variable) in sorted(SWITCHES.items()):
                if name in enabled:
                    cursor.execute('SET GLOBAL %s = %%s' % file_variable,
                                   (paths[name],))
                    if name == 'slow_query' and long_query_s is not None:
                        cursor.execute('SET GLOBAL long_query_time = %s',
                                       (long_query_s,))
                cursor.execute('SET GLOBAL %s = %s' % (
                    switch, 'ON' if name in enabled else 'OFF'))
        return True
