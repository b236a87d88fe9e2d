"""The shipped validation rules files load and make sense."""
import json
import os

import testtools

from trove_clone.services import config_parameters

TEMPLATES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                         os.pardir, 'templates')
MINIMUM = {'mysql': 60, 'mariadb': 60, 'postgresql': 80, 'redis': 30}
FORBIDDEN = {'datadir', 'port', 'socket', 'bind_address', 'plugin_dir',
             'tmpdir', 'log_error', 'general_log_file', 'slow_query_log_file',
             'data_directory', 'hba_file', 'ident_file', 'config_file',
             'unix_socket_directories', 'listen_addresses', 'dir',
             'dbfilename', 'bind', 'unixsocket', 'logfile', 'daemonize'}
MUST_HAVE = {'mysql': 'max_connections', 'mariadb': 'max_connections',
             'postgresql': 'max_connections', 'redis': 'maxmemory'}


class ValidationRulesTest(testtools.TestCase):

    def load(self, datastore: str) -> tuple[str, list]:
        path = os.path.join(TEMPLATES, datastore, 'validation-rules.json')
        with open(path) as rules_file:
            text = rules_file.read()
        return text, json.loads(text)['configuration-parameters']

    def test_every_file_parses_and_is_sound(self) -> None:
        for datastore, minimum in MINIMUM.items():
            text, entries = self.load(datastore)
            rows = config_parameters.parse_rules(text, datastore)
            self.assertGreaterEqual(len(rows), minimum, datastore)
            names = [entry['name'] for entry in entries]
            self.assertEqual(sorted(names), names, datastore)
            self.assertIn(MUST_HAVE[datastore], names)
            for entry in entries:
                if 'min' in entry and 'max' in entry:
                    self.assertLessEqual(entry['min'], entry['max'],
                                         entry['name'])
                if entry['type'] in ('string', 'boolean'):
                    self.assertNotIn('max', entry, entry['name'])

    def test_mysql_bounds_beyond_64_bit_signed(self) -> None:
        _text, entries = self.load('mysql')
        by_name = {entry['name']: entry for entry in entries}
        self.assertEqual(18446744073709551615,
                         by_name['max_binlog_cache_size']['max'])

    def test_no_paths_or_ports(self) -> None:
        for datastore in MINIMUM:
            _text, entries = self.load(datastore)
            names = {entry['name'] for entry in entries}
            self.assertEqual(set(), names & FORBIDDEN, datastore)
            self.assertEqual([], [name for name in names
                                  if name.startswith('ssl')], datastore)
