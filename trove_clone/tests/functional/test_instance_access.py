"""Access update (issue 14): ``openstack database instance update
--allowed-cidr ... --is-private`` and the same through python-troveclient
and at create. A client whose source address is outside the allowed CIDRs
cannot connect to the engine (PostgreSQL through psycopg, MariaDB through
PyMySQL, Redis through redis-py); one inside can; a restart keeps the
rule; a connection open from a source no longer allowed is closed;
allowing everything again lets 127.0.0.1 back in; bad CIDRs are a
400 naming the field, with nothing changed; ``instance show`` has the
access."""
import json
import os
import socket
import time

import psycopg
import pymysql
import redis
from troveclient import exceptions as trove_exc

from trove_clone.tests.functional import base
from trove_clone.tests.functional import instances as deployment

WAIT = 240
USER = 'access_app'
PASSWORD = 'Access-pw-4c1d'
#: Client source addresses: one the tests allow, one they do not.
ALLOWED_SOURCE = '127.77.150.200'
ALLOWED_CIDR = '127.77.150.192/28'
REFUSED_SOURCE = '127.0.0.1'


def tcp_reaches(address: str, port: int, source: str) -> bool:
    """Whether a TCP handshake from ``source`` to the engine completes."""
    connection = socket.socket()
    connection.settimeout(3)
    try:
        connection.bind((source, 0))
        connection.connect((address, port))
        return True
    except OSError:
        return False
    finally:
        connection.close()


class InstanceAccessTest(deployment.DeploymentTestCase):

    address_pool = '127.77.150.0/28'
    datastores = ('postgresql', 'mariadb', 'redis')

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()

    # --- helpers ---------------------------------------------------------

    def cli(self, *argv: str, fails: bool = False) -> str:
        """The real ``openstack`` client, through noauth's admin_token."""
        env = dict(os.environ, OS_AUTH_TYPE='admin_token',
                   OS_TOKEN='alice:demo', OS_ENDPOINT='%s/v1.0/demo'
                   % self.deployment.api.endpoint)
        return base.run_cli(self, env, ('openstack',) + argv,
                            expect_failure=fails)

    def create(self, datastore: str, access: dict | None = None) -> str:
        kwargs = {'volume': {'size': 1}, 'datastore': datastore,
                  'users': [{'name': USER, 'password': PASSWORD}]}
        if datastore != 'redis':
            kwargs['databases'] = [{'name': 'appdb'}]
            kwargs['users'][0]['databases'] = [{'name': 'appdb'}]
        if access is not None:
            kwargs['access'] = access
        instance = self.trove.instances.create('access-%s' % datastore,
                                               '1', **kwargs)
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        return instance.id

    def wait_active(self, instance_id: str):
        """The instance once its task is over and it is ACTIVE/HEALTHY."""
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.trove.instances.get(instance_id)
            if instance.status in ('ACTIVE', 'HEALTHY') and \
                    instance.operating_status == 'HEALTHY':
                return instance
            self.assertNotEqual('ERROR', instance.status,
                                getattr(instance, 'fault', None))
            self.assertLess(time.monotonic(), deadline, instance.status)
            time.sleep(0.3)

    def postgresql_works(self, address: str) -> bool:
        """A login from 127.0.0.1 (libpq cannot choose its source)."""
        try:
            with psycopg.connect(host=address, user=USER, password=PASSWORD,
                                 dbname='appdb', connect_timeout=3) as db:
                return db.execute('SELECT 1').fetchone() == (1,)
        except psycopg.OperationalError:
            return False

    def mariadb_works(self, address: str, source: str) -> bool:
        try:
            connection = pymysql.connect(
                host=address, user=USER, password=PASSWORD, database='appdb',
                bind_address=source, connect_timeout=3)
        except pymysql.err.OperationalError:
            return False
        with connection, connection.cursor() as cursor:
            cursor.execute('SELECT 1')
            return cursor.fetchone() == (1,)

    def redis_works(self, address: str) -> bool:
        client = redis.Redis(host=address, username=USER, password=PASSWORD,
                             socket_connect_timeout=3, socket_timeout=3)
        try:
            return client.ping() is True
        except (redis.ConnectionError, redis.TimeoutError):
            return False
        finally:
            client.close()

    # --- the test --------------------------------------------------------

    def test_allowed_cidrs_refuse_other_sources(self) -> None:
        # MariaDB gets its access at create: 127.0.0.1 is out from the
        # start.
        mariadb_id = self.create('mariadb', {'is_public': False,
                                             'allowed_cidrs': [ALLOWED_CIDR]})
        postgresql_id = self.create('postgresql')
        redis_id = self.create('redis')
        # Still building: 422, as for other actions.
        with self.assertRaises(trove_exc.UnprocessableEntity):
            self.trove.instances.update(redis_id,
                                        allowed_cidrs=['10.0.0.0/8'])
        mariadb = self.wait_active(mariadb_id)
        postgresql = self.wait_active(postgresql_id)
        instance = self.wait_active(redis_id)
        self.assertEqual({'is_public': False,
                          'allowed_cidrs': [ALLOWED_CIDR]}, mariadb.access)
        self.assertFalse(self.mariadb_works(mariadb.ip[0], REFUSED_SOURCE))
        self.assertTrue(self.mariadb_works(mariadb.ip[0], ALLOWED_SOURCE))
        self.assertTrue(self.postgresql_works(postgresql.ip[0]))
        self.assertTrue(self.redis_works(instance.ip[0]))

        # Bad input: a 400 naming the field, nothing changed.
        error = self.cli('database', 'instance', 'update', postgresql_id,
                         '--allowed-cidr', '10.0.0.300/24', fails=True)
        self.assertIn('HTTP 400', error)
        self.assertIn('access.allowed_cidrs[0]', error)
        self.assertIn('ACTIVE', self.trove.instances.get(
            postgresql_id).status)
        self.assertTrue(self.postgresql_works(postgresql.ip[0]))
        with self.assertRaises(trove_exc.BadRequest) as caught:
            self.trove.instances.update(redis_id, is_public=True,
                                        allowed_cidrs=['10.0.0.0/8', 'x'])
        self.assertIn('access.allowed_cidrs[1]', str(caught.exception))
        self.assertNotIn('allowed_cidrs',
                         self.trove.instances.get(redis_id).access)

        # Through the openstack client: only the allowed CIDR now. A
        # connection open from 127.0.0.1 is closed, as by a security group.
        held = psycopg.connect(host=postgresql.ip[0], user=USER,
                               password=PASSWORD, dbname='appdb',
                               connect_timeout=3)
        self.addCleanup(held.close)
        self.cli('database', 'instance', 'update', postgresql_id,
                 '--is-private', '--allowed-cidr', ALLOWED_CIDR)
        self.trove.instances.update(redis_id, is_public=False,
                                    allowed_cidrs=[ALLOWED_CIDR])
        self.wait_active(postgresql_id)
        self.wait_active(redis_id)
        shown = json.loads(self.cli('database', 'instance', 'show',
                                    postgresql_id, '-f', 'json'))
        # The client shows access as two rows.
        self.assertEqual((False, [ALLOWED_CIDR]),
                         (shown['public'], shown['allowed_cidrs']))
        self.assertFalse(self.postgresql_works(postgresql.ip[0]))
        self.assertRaises(psycopg.OperationalError, held.execute,
                          'SELECT 1')
        self.assertTrue(tcp_reaches(postgresql.ip[0], 5432, ALLOWED_SOURCE))
        self.assertFalse(self.redis_works(instance.ip[0]))
        self.assertTrue(tcp_reaches(instance.ip[0], 6379, ALLOWED_SOURCE))

        # A restart gives the engine a new socket: still filtered.
        self.trove.instances.restart(postgresql_id)
        time.sleep(1)
        self.wait_active(postgresql_id)
        self.assertFalse(self.postgresql_works(postgresql.ip[0]))

        # Everyone again.
        self.cli('database', 'instance', 'update', postgresql_id,
                 '--is-public', '--allowed-cidr', '0.0.0.0/0')
        self.trove.instances.update(mariadb_id, is_public=True,
                                    allowed_cidrs=[])
        self.wait_active(postgresql_id)
        self.wait_active(mariadb_id)
        self.assertTrue(self.postgresql_works(postgresql.ip[0]))
        self.assertTrue(self.mariadb_works(mariadb.ip[0], REFUSED_SOURCE))
        self.assertEqual({'is_public': True, 'allowed_cidrs': []},
                         self.trove.instances.get(mariadb_id).access)
