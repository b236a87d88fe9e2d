"""The engine-free parts of the accounts capability: quoting, reserved
names, the statements built, and which manager gets which class."""
import pymysql
import testtools

from trove_clone.common import exception
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.datastores.mariadb import accounts as \
    mariadb_accounts
from trove_clone.guestagent.datastores.postgresql import accounts as \
    postgresql_accounts
from trove_clone.guestagent.datastores.redis import accounts as redis_accounts


class FakeCursor:
    """Records the statements as PyMySQL would send them."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def execute(self, statement: str, params=None) -> None:
        if params is not None:
            statement = statement % tuple(
                pymysql.converters.escape_string(value).join("''")
                for value in params)
        self.sent.append(statement)


class MariadbTest(testtools.TestCase):

    def test_quote_identifier(self) -> None:
        self.assertEqual('`plain`', mariadb_accounts.quote_identifier(
            'plain'))
        self.assertEqual('`a``b`', mariadb_accounts.quote_identifier('a`b'))

    def test_grant_pattern_round_trip(self) -> None:
        for name in ('my_db', '100%', 'back\\slash', 'plain'):
            pattern = mariadb_accounts.grant_pattern(name)
            self.assertEqual(name, mariadb_accounts.pattern_name(pattern))
        self.assertEqual('my\\_db', mariadb_accounts.grant_pattern('my_db'))
        self.assertEqual('a\\%', mariadb_accounts.grant_pattern('a%'))

    def test_hidden_names(self) -> None:
        for name in ('root', 'mariadb.sys', 'mysql', 'PUBLIC', 'os_admin',
                     ''):
            self.assertTrue(mariadb_accounts.is_hidden_user(name), name)
        self.assertFalse(mariadb_accounts.is_hidden_user('app'))
        for name in ('mysql', 'information_schema', 'performance_schema',
                     'sys'):
            self.assertTrue(mariadb_accounts.is_hidden_database(name))
        self.assertFalse(mariadb_accounts.is_hidden_database('app'))

    def test_create_database_statement(self) -> None:
        cursor = FakeCursor()
        create = mariadb_accounts.MariadbAccounts._create_database
        create(cursor, {'name': '50%`off'})
        create(cursor, {'name': 'l', 'character_set': 'latin1'})
        create(cursor, {'name': 'c', 'collate': "utf8mb4_bin'"})
        self.assertEqual(
            ["CREATE DATABASE `50%``off` CHARACTER SET 'utf8mb4' "
             "COLLATE 'utf8mb4_general_ci'",
             "CREATE DATABASE `l` CHARACTER SET 'latin1'",
             "CREATE DATABASE `c` COLLATE 'utf8mb4_bin\\''"],
            cursor.sent)


class PostgresqlTest(testtools.TestCase):

    def test_hidden_names(self) -> None:
        for name in ('postgres', 'pg_monitor', 'os_admin'):
            self.assertTrue(postgresql_accounts.is_hidden_user(name))
        self.assertFalse(postgresql_accounts.is_hidden_user('app'))
        for name in ('postgres', 'template0', 'template1'):
            self.assertTrue(postgresql_accounts.is_hidden_database(name))
        self.assertFalse(postgresql_accounts.is_hidden_database('app'))

    def test_check_name(self) -> None:
        postgresql_accounts.check_name('user', 'a' * 63)
        postgresql_accounts.check_name('database', 'postgres_like')
        self.assertRaises(exception.InvalidName,
                          postgresql_accounts.check_name, 'user', 'a' * 64)
        self.assertRaises(exception.InvalidName,
                          postgresql_accounts.check_name, 'user', 'é' * 32)
        self.assertRaises(exception.InvalidName,
                          postgresql_accounts.check_name, 'user', 'pg_x')
        self.assertRaises(exception.InvalidName,
                          postgresql_accounts.check_name, 'database', '')

    def test_create_statement(self) -> None:
        build = postgresql_accounts.PostgresqlAccounts._create_statement
        self.assertEqual('CREATE DATABASE "a""b"',
                         build({'name': 'a"b'}).as_string(None))
        self.assertEqual(
            "CREATE DATABASE \"d\" TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C''x' LC_CTYPE 'C''x'",
            build({'name': 'd', 'character_set': 'UTF8',
                   'collate': "C'x"}).as_string(None))


class RedisTest(testtools.TestCase):

    def test_check_name(self) -> None:
        redis_accounts.check_name('app')
        for name in ('', 'a b', 'tab\tx', 'default', 'root', 'os_agent'):
            self.assertRaises(exception.InvalidName,
                              redis_accounts.check_name, name)

    def test_databases_are_not_supported(self) -> None:
        accounts = redis_accounts.RedisAccounts(engine=None)
        error = self.assertRaises(exception.DatastoreOperationNotSupported,
                                  accounts.list_databases)
        self.assertIn('redis', error.message)
        self.assertRaises(exception.DatastoreOperationNotSupported,
                          accounts.create_users,
                          [{'name': 'app', 'password': 'pw',
                            'databases': [{'name': '0'}]}])


class LoaderTest(testtools.TestCase):

    def test_managers(self) -> None:
        expected = {'mysql': mariadb_accounts.MariadbAccounts,
                    'mariadb': mariadb_accounts.MariadbAccounts,
                    'postgresql': postgresql_accounts.PostgresqlAccounts,
                    'redis': redis_accounts.RedisAccounts}
        for manager, cls in expected.items():
            accounts = loader.capability('accounts', manager, engine=None)
            self.assertIsInstance(accounts, cls)
        self.assertRaises(exception.DatastoreOperationNotSupported,
                          loader.capability, 'accounts', 'cassandra', None)
