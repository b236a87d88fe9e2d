"""Users, databases and root of real engines from real guest images: what
the agent creates, clients use over TCP with the engine's own driver, and
what it removes, they can no longer use."""
import psycopg
import pymysql
import redis
from redis import backoff
from redis import retry

from trove_clone.common import exception
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.tests.functional.guestagent import test_lifecycle

# test_lifecycle deletes the name of its base class (so that the loader
# does not collect it); its subclasses still carry it.
_LifecycleTest = test_lifecycle.RedisLifecycleTest.__bases__[0]

ADDRESS = '127.77.252.%d'


class MariadbAccountsTest(_LifecycleTest):

    datastore = 'mariadb'
    version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 1

    def setUp(self) -> None:
        super().setUp()
        self.engine.prepare()
        self.accounts = loader.capability('accounts', 'mysql', self.engine)

    def login(self, user: str, password: str,
              database: str | None = None) -> pymysql.Connection:
        connection = pymysql.connect(
            host=self.address, port=3306, user=user, password=password,
            database=database, connect_timeout=10, autocommit=True)
        self.addCleanup(self.close, connection)
        return connection

    @staticmethod
    def close(connection: pymysql.Connection) -> None:
        if connection.open:
            connection.close()

    def query(self, connection, statement: str) -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall()

    def test_users_databases_and_root(self) -> None:
        self.check_databases()
        self.check_users()
        self.check_access()
        self.check_passwords_and_rename()
        self.check_errors()
        self.check_root()
        self.accounts.delete_user('renamed', '%')
        self.accounts.delete_database('app_db')
        self.accounts.delete_database('other')
        self.assertEqual([], self.accounts.list_users())
        self.assertEqual([], self.accounts.list_databases())
        self.assertRaises(pymysql.err.OperationalError, self.login,
                          'renamed', 'renamed-pw')

    def check_databases(self) -> None:
        self.accounts.create_databases([
            {'name': 'app_db'},
            {'name': 'other', 'character_set': 'latin1',
             'collate': 'latin1_bin'}])
        self.assertEqual(
            [{'name': 'app_db', 'character_set': 'utf8mb4',
              'collate': 'utf8mb4_general_ci'},
             {'name': 'other', 'character_set': 'latin1',
              'collate': 'latin1_bin'}],
            self.accounts.list_databases())

    def check_users(self) -> None:
        self.accounts.create_users([{
            'name': 'app', 'host': '%', 'password': 'app-pw',
            'databases': [{'name': 'app_db'}]}])
        app = self.login('app', 'app-pw', 'app_db')
        self.query(app, 'CREATE TABLE t (v varchar(40))')
        self.query(app, "INSERT INTO t VALUES ('written')")
        self.assertEqual((('written',),), self.query(app, 'SELECT v FROM t'))
        self.assertEqual(
            [{'name': 'app', 'host': '%',
              'databases': [{'name': 'app_db'}]}],
            self.accounts.list_users())
        # The engine has them, the views do not.
        connection = self.engine.connect()
        self.addCleanup(self.close, connection)
        users = {row[0] for row in self.query(
            connection, 'SELECT User FROM mysql.user')}
        self.assertTrue({'root', 'mariadb.sys'} <= users, users)
        # No socket account for the engine's OS user, no anonymous one.
        self.assertFalse({'mysql', ''} & users, users)

    def check_access(self) -> None:
        self.accounts.grant_access('app', '%', ['other'])
        self.assertEqual([{'name': 'app_db'}, {'name': 'other'}],
                         self.accounts.list_access('app', '%'))
        other = self.login('app', 'app-pw', 'other')
        self.query(other, 'CREATE TABLE t2 (v int)')
        self.accounts.revoke_access('app', '%', 'other')
        self.assertEqual([{'name': 'app_db'}],
                         self.accounts.list_access('app', '%'))
        self.assertRaises(pymysql.err.OperationalError, self.login,
                          'app', 'app-pw', 'other')

    def check_passwords_and_rename(self) -> None:
        self.accounts.change_passwords([
            {'name': 'app', 'host': '%', 'password': 'new-pw'}])
        self.login('app', 'new-pw', 'app_db')
        self.assertRaises(pymysql.err.OperationalError, self.login,
                          'app', 'app-pw')
        self.accounts.update_attributes('app', '%', {
            'name': 'renamed', 'password': 'renamed-pw'})
        renamed = self.login('renamed', 'renamed-pw', 'app_db')
        self.assertEqual((('written',),),
                         self.query(renamed, 'SELECT v FROM t'))
        self.assertRaises(exception.UserNotFound, self.accounts.get_user,
                          'app', '%')
        self.assertEqual({'name': 'renamed', 'host': '%',
                          'databases': [{'name': 'app_db'}]},
                         self.accounts.get_user('renamed', '%'))

    def check_errors(self) -> None:
        self.assertRaises(exception.UserAlreadyExists,
                          self.accounts.create_users,
                          [{'name': 'renamed', 'password': 'x'}])
        self.assertRaises(exception.DatabaseAlreadyExists,
                          self.accounts.create_databases,
                          [{'name': 'app_db'}])
        self.assertRaises(exception.UserNotFound, self.accounts.delete_user,
                          'nobody', '%')
        self.assertRaises(exception.UserNotFound, self.accounts.get_user,
                          'root', 'localhost')
        self.assertRaises(exception.DatabaseNotFound,
                          self.accounts.grant_access, 'renamed', '%',
                          ['nowhere'])
        self.assertRaises(exception.DatabaseNotFound,
                          self.accounts.delete_database, 'mysql')
        self.assertRaises(exception.BadRequest,
                          self.accounts.create_databases,
                          [{'name': 'bad', 'character_set': 'nosuch'}])

    def check_root(self) -> None:
        self.assertFalse(self.accounts.is_root_enabled())
        root = self.accounts.enable_root()
        self.assertEqual('root', root['name'])
        self.assertTrue(self.accounts.is_root_enabled())
        connection = self.login('root', root['password'])
        self.assertIn(('renamed',), self.query(
            connection, 'SELECT User FROM mysql.user'))
        connection.close()
        self.accounts.disable_root()
        self.assertFalse(self.accounts.is_root_enabled())
        self.assertRaises(pymysql.err.OperationalError, self.login,
                          'root', root['password'])
        self.assertRaises(exception.RootNotEnabled,
                          self.accounts.disable_root)
        # The agent's own root over the socket is untouched.
        self.assertTrue(self.engine.is_healthy())


class PostgresqlAccountsTest(_LifecycleTest):

    datastore = 'postgresql'
    version = '15'
    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle
    address = ADDRESS % 2

    def setUp(self) -> None:
        super().setUp()
        self.engine.prepare()
        self.accounts = loader.capability('accounts', 'postgresql',
                                          self.engine)

    def login(self, user: str, password: str,
              dbname: str = 'postgres') -> psycopg.Connection:
        connection = psycopg.connect(
            host=self.address, port=5432, user=user, password=password,
            dbname=dbname, connect_timeout=10, autocommit=True)
        self.addCleanup(connection.close)
        return connection

    def test_users_databases_and_root(self) -> None:
        self.check_databases()
        self.check_users()
        self.check_access()
        self.check_passwords_and_rename()
        self.check_errors()
        self.check_root()
        # The user owns table t in app_db: the table outlives the user,
        # handed to the superuser.
        self.accounts.delete_user('renamed', '%')
        with self.engine.connect('app_db') as connection:
            owner = connection.execute(
                "SELECT tableowner FROM pg_tables WHERE tablename = 't'"
            ).fetchone()
        self.assertEqual(('postgres',), owner)
        self.accounts.delete_database('app_db')
        self.accounts.delete_database('other')
        self.assertEqual([], self.accounts.list_users())
        self.assertEqual([], self.accounts.list_databases())
        self.assertRaises(psycopg.OperationalError, self.login,
                          'renamed', 'renamed-pw')

    def check_databases(self) -> None:
        self.accounts.create_databases([
            {'name': 'app_db'},
            {'name': 'other', 'character_set': 'UTF8', 'collate': 'C'}])
        databases = self.accounts.list_databases()
        self.assertEqual(['app_db', 'other'],
                         [db['name'] for db in databases])
        self.assertEqual({'name': 'other', 'character_set': 'UTF8',
                          'collate': 'C'}, databases[1])

    def check_users(self) -> None:
        self.accounts.create_users([{
            'name': 'app', 'host': '%', 'password': 'app-pw',
            'databases': [{'name': 'app_db'}]}])
        app = self.login('app', 'app-pw', 'app_db')
        app.execute('CREATE TABLE t (v text)')
        app.execute("INSERT INTO t VALUES ('written')")
        self.assertEqual([('written',)],
                         app.execute('SELECT v FROM t').fetchall())
        self.assertEqual(
            [{'name': 'app', 'host': '%',
              'databases': [{'name': 'app_db'}]}],
            self.accounts.list_users())
        with self.engine.connect() as connection:
            roles = {row[0] for row in connection.execute(
                'SELECT rolname FROM pg_roles')}
        self.assertIn('postgres', roles)
        self.assertTrue(any(role.startswith('pg_') for role in roles))

    def check_access(self) -> None:
        self.accounts.grant_access('app', '%', ['other'])
        self.assertEqual([{'name': 'app_db'}, {'name': 'other'}],
                         self.accounts.list_access('app', '%'))
        self.login('app', 'app-pw', 'other').execute(
            'CREATE TABLE t2 (v int)').close()
        self.login('app', 'app-pw', 'other').execute('DROP TABLE t2')
        self.accounts.revoke_access('app', '%', 'other')
        self.assertEqual([{'name': 'app_db'}],
                         self.accounts.list_access('app', '%'))
        self.assertRaises(psycopg.OperationalError, self.login,
                          'app', 'app-pw', 'other')

    def check_passwords_and_rename(self) -> None:
        self.accounts.change_passwords([
            {'name': 'app', 'host': '%', 'password': 'new-pw'}])
        self.login('app', 'new-pw', 'app_db')
        self.assertRaises(psycopg.OperationalError, self.login,
                          'app', 'app-pw', 'app_db')
        self.accounts.update_attributes('app', '%', {
            'name': 'renamed', 'password': 'renamed-pw'})
        renamed = self.login('renamed', 'renamed-pw', 'app_db')
        self.assertEqual([('written',)],
                         renamed.execute('SELECT v FROM t').fetchall())
        self.assertRaises(exception.UserNotFound, self.accounts.get_user,
                          'app', '%')
        self.assertEqual({'name': 'renamed', 'host': '%',
                          'databases': [{'name': 'app_db'}]},
                         self.accounts.get_user('renamed', '%'))

    def check_errors(self) -> None:
        self.assertRaises(exception.UserAlreadyExists,
                          self.accounts.create_users,
                          [{'name': 'renamed', 'password': 'x'}])
        self.assertRaises(exception.DatabaseAlreadyExists,
                          self.accounts.create_databases,
                          [{'name': 'app_db'}])
        self.assertRaises(exception.UserNotFound, self.accounts.delete_user,
                          'nobody', '%')
        self.assertRaises(exception.UserNotFound, self.accounts.get_user,
                          'postgres', '%')
        self.assertRaises(exception.DatabaseNotFound,
                          self.accounts.grant_access, 'renamed', '%',
                          ['nowhere'])
        self.assertRaises(exception.DatabaseNotFound,
                          self.accounts.delete_database, 'template1')
        self.assertRaises(exception.BadRequest,
                          self.accounts.create_databases,
                          [{'name': 'bad', 'collate': 'xx_NOSUCH'}])

    def check_root(self) -> None:
        self.assertFalse(self.accounts.is_root_enabled())
        root = self.accounts.enable_root()
        # Trove's name: tempest's PostgreSQL tests log in as root.
        self.assertEqual('root', root['name'])
        self.assertTrue(self.accounts.is_root_enabled())
        with self.login('root', root['password']) as connection:
            self.assertEqual((True,), connection.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = "
                "current_user").fetchone())
        self.assertNotIn('root', [user['name'] for user in
                                  self.accounts.list_users()])
        self.assertRaises(psycopg.OperationalError, self.login,
                          'postgres', root['password'])
        again = self.accounts.enable_root('second-pw-1')
        with self.login('root', again['password']):
            pass
        self.accounts.disable_root()
        self.assertFalse(self.accounts.is_root_enabled())
        self.assertRaises(psycopg.OperationalError, self.login,
                          'root', again['password'])
        self.assertRaises(exception.RootNotEnabled,
                          self.accounts.disable_root)
        self.assertTrue(self.engine.is_healthy())


class RedisAccountsTest(_LifecycleTest):

    datastore = 'redis'
    version = '7.0'
    lifecycle_class = redis_lifecycle.RedisLifecycle
    address = ADDRESS % 3

    def setUp(self) -> None:
        super().setUp()
        self.engine.prepare()
        self.accounts = loader.capability('accounts', 'redis', self.engine)

    def login(self, user: str, password: str) -> redis.Redis:
        # No retries: a refused login fails at once.
        client = redis.Redis(host=self.address, port=6379, username=user,
                             password=password, socket_timeout=10,
                             retry=retry.Retry(backoff.NoBackoff(), 0))
        self.addCleanup(client.close)
        client.ping()
        return client

    def test_users_and_root(self) -> None:
        self.check_users()
        self.check_passwords_and_rename()
        self.check_not_supported()
        self.check_root()
        self.check_restart()
        self.accounts.delete_user('renamed', '%')
        self.assertEqual([], self.accounts.list_users())
        self.assertRaises(redis.AuthenticationError, self.login,
                          'renamed', 'renamed-pw')

    def check_users(self) -> None:
        self.accounts.create_users([
            {'name': 'app', 'host': '%', 'password': 'app-pw'}])
        app = self.login('app', 'app-pw')
        app.set('written', 'by app')
        self.assertEqual(b'by app', app.get('written'))
        self.assertEqual([{'name': 'app', 'host': '%', 'databases': []}],
                         self.accounts.list_users())
        self.assertEqual({'name': 'app', 'host': '%', 'databases': []},
                         self.accounts.get_user('app', '%'))
        self.assertRaises(exception.UserAlreadyExists,
                          self.accounts.create_users,
                          [{'name': 'app', 'password': 'x'}])
        self.assertRaises(exception.UserNotFound, self.accounts.get_user,
                          'default', '%')
        self.assertRaises(exception.UserNotFound, self.accounts.delete_user,
                          'nobody', '%')

    def check_passwords_and_rename(self) -> None:
        self.accounts.change_passwords([
            {'name': 'app', 'host': '%', 'password': 'new-pw'}])
        self.login('app', 'new-pw')
        self.assertRaises(redis.AuthenticationError, self.login,
                          'app', 'app-pw')
        self.accounts.update_attributes('app', '%', {'name': 'renamed'})
        # The rules and the password go with the new name.
        renamed = self.login('renamed', 'new-pw')
        self.assertEqual(b'by app', renamed.get('written'))
        self.assertRaises(redis.AuthenticationError, self.login,
                          'app', 'new-pw')
        self.accounts.update_attributes('renamed', '%',
                                        {'password': 'renamed-pw'})
        self.login('renamed', 'renamed-pw')

    def check_not_supported(self) -> None:
        for call, arguments in (
                (self.accounts.create_databases, ([{'name': 'd'}],)),
                (self.accounts.list_databases, ()),
                (self.accounts.delete_database, ('d',)),
                (self.accounts.grant_access, ('renamed', '%', ['d'])),
                (self.accounts.revoke_access, ('renamed', '%', 'd')),
                (self.accounts.list_access, ('renamed', '%'))):
            self.assertRaises(exception.DatastoreOperationNotSupported,
                              call, *arguments)

    def check_root(self) -> None:
        self.assertFalse(self.accounts.is_root_enabled())
        root = self.accounts.enable_root()
        self.assertEqual('root', root['name'])
        self.assertTrue(self.accounts.is_root_enabled())
        self.assertEqual(b'by app', self.login(
            'root', root['password']).get('written'))
        self.assertEqual(['renamed'],
                         [user['name'] for user in
                          self.accounts.list_users()])
        self.accounts.disable_root()
        self.assertFalse(self.accounts.is_root_enabled())
        self.assertRaises(redis.AuthenticationError, self.login,
                          'root', root['password'])
        self.assertRaises(exception.RootNotEnabled,
                          self.accounts.disable_root)

    def check_restart(self) -> None:
        self.engine.stop()
        again = self.make()
        self.addCleanup(again.stop)
        again.start()
        self.accounts = loader.capability('accounts', 'redis', again)
        self.assertEqual(b'by app', self.login(
            'renamed', 'renamed-pw').get('written'))
        self.assertEqual(['renamed'],
                         [user['name'] for user in
                          self.accounts.list_users()])
