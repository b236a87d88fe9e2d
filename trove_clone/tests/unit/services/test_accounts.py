"""The account-name rules of the services come from the engines'
descriptors, without importing any guest agent code."""
import subprocess
import sys

import testtools

from trove_clone.common import exception
from trove_clone.services import accounts

#: Loads the rules of every manager and prints the guest agent modules
#: (and engine drivers) that got imported.
PROBE = '''
import sys
from trove_clone.services import accounts
for manager in ('mysql', 'mariadb', 'postgresql', 'redis'):
    accounts.rules(manager)
print('\\n'.join(sorted(name for name in sys.modules
                        if name.startswith('trove_clone.guestagent') or
                        name in ('pymysql', 'psycopg', 'redis'))))
'''


class RulesTest(testtools.TestCase):

    def test_only_descriptors_are_loaded(self) -> None:
        loaded = subprocess.run([sys.executable, '-c', PROBE],
                                capture_output=True, text=True, check=True,
                                timeout=60).stdout.split()
        self.assertTrue(loaded)
        for name in loaded:
            self.assertRegex(name, r'^trove_clone\.guestagent(\.datastores'
                             r'(\.\w+(\.descriptor)?)?)?$')

    def test_rules_per_manager(self) -> None:
        self.assertIs(accounts.rules('mysql'), accounts.rules('mariadb'))
        self.assertEqual('root', accounts.rules('postgresql').root_name)
        self.assertFalse(accounts.rules('redis').has_hosts)
        error = self.assertRaises(exception.DatastoreOperationNotSupported,
                                  accounts.rules, 'cassandra')
        self.assertEqual('The users and databases operation is not '
                         'supported for the cassandra datastore.',
                         error.message)

    def test_names(self) -> None:
        self.assertEqual(('app', '%'),
                         accounts.check_user_name('mysql', 'app', None))
        for manager, name, reason in (
                ('mysql', 'a' * 65, 'use at most 64 letters, digits and '
                 '_ $ -'),
                ('postgresql', '1db', 'use at most 63 letters, digits and '
                 '_ $, not starting with a digit'),
                ('postgresql', 'template1', 'the name is reserved')):
            error = self.assertRaises(exception.InvalidName,
                                      accounts.check_database_name,
                                      manager, name)
            self.assertIn(reason, error.message)
        error = self.assertRaises(exception.DatastoreOperationNotSupported,
                                  accounts.check_database_name, 'redis',
                                  'db')
        self.assertEqual('The databases operation is not supported for the '
                         'redis datastore.', error.message)
        self.assertRaises(exception.InvalidName, accounts.check_user_name,
                          'redis', 'os_admin', None)
        self.assertRaises(exception.BadRequest, accounts.check_user_name,
                          'postgresql', 'app', '10.0.0.1')
