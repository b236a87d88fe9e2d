"""MariaDB Galera without an engine: the wsrep settings my.cnf gets, the
grastate.dat positions, and which way a member joins (the real engines
are in tests/functional/guestagent/test_galera.py)."""
import os
from unittest import mock

import fixtures
import testtools

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import cluster
from trove_clone.guestagent.datastores.mariadb import galera
from trove_clone.guestagent.datastores.mariadb import lifecycle
from trove_clone.guestagent.datastores.mariadb import overrides
from trove_clone.guestagent.datastores.mariadb import wsrep
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.datastores import templating

MEMBERS = [{'id': 'm-1', 'address': '192.0.2.1'},
           {'id': 'm-2', 'address': '192.0.2.2'},
           {'id': 'm-3', 'address': '192.0.2.3'}]
STATE = {'id': 'c1a2b3c4-0000-1111-2222-333344445555', 'role': 'member',
         'secret': 's3cret-value', 'members': MEMBERS, 'self': 'm-2'}


class WsrepSettingsTest(testtools.TestCase):

    def test_every_port_on_the_members_own_address(self) -> None:
        found = wsrep.settings('192.0.2.2', STATE, '/lib/galera.so',
                               '/v/data/wsrep-secrets.cnf', 512)
        self.assertEqual(
            'gcomm://192.0.2.1:4567,192.0.2.2:4567,192.0.2.3:4567',
            found['cluster_address'])
        self.assertEqual('gmcast.listen_addr=tcp://192.0.2.2:4567;'
                         'ist.recv_addr=192.0.2.2:4568;gcache.size=64M',
                         found['provider_options'])
        self.assertEqual('192.0.2.2:4444', found['sst_receive_address'])
        self.assertEqual('bind=192.0.2.2', found['sst_sockopt'])
        self.assertEqual('c1a2b3c4000011112222333344445555',
                         found['cluster_name'])
        self.assertEqual('m-2', found['node_name'])
        self.assertNotIn('s3cret-value', repr(found))

    def test_ipv6_in_brackets(self) -> None:
        state = dict(STATE, members=[{'id': 'a', 'address': '2001:db8::1'}])
        found = wsrep.settings('2001:db8::1', state, 'p', 'f', 512)
        self.assertEqual('gcomm://[2001:db8::1]:4567',
                         found['cluster_address'])
        self.assertEqual('bind=[2001:db8::1]', found['sst_sockopt'])

    def test_gcache_sized_by_the_flavor(self) -> None:
        self.assertEqual([16, 64, 512], [wsrep.gcache_mb(ram) for ram in
                                         (64, 512, 16384)])

    def test_secrets_file(self) -> None:
        self.assertEqual('[mysqld]\nwsrep_sst_auth = os_sst:pw\n',
                         wsrep.secrets_text('pw'))


class GrastateTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.datadir = self.useFixture(fixtures.TempDir()).path

    def test_round_trip(self) -> None:
        self.assertIsNone(wsrep.read_grastate(self.datadir))
        position = {'uuid': 'bb27-11f1', 'seqno': 42,
                    'safe_to_bootstrap': True}
        with open(os.path.join(self.datadir, wsrep.GRASTATE), 'w') as out:
            out.write(wsrep.grastate_text(position))
        self.assertEqual(position, wsrep.read_grastate(self.datadir))

    def test_crashed_member(self) -> None:
        with open(os.path.join(self.datadir, wsrep.GRASTATE), 'w') as out:
            out.write('# GALERA saved state\nversion: 2.1\nuuid:    u-1\n'
                      'seqno:   -1\nsafe_to_bootstrap: 0\n')
        self.assertEqual({'uuid': 'u-1', 'seqno': -1,
                          'safe_to_bootstrap': False},
                         wsrep.read_grastate(self.datadir))

    def test_recovered_position(self) -> None:
        log = ('2026-12-07 0 [Note] InnoDB: ...\n2026-12-07 0 [Note] WSREP: '
               'Recovered position: bb273e28-f24e-11f1-9117-52a68563a86e:8\n')
        self.assertEqual({'uuid': 'bb273e28-f24e-11f1-9117-52a68563a86e',
                          'seqno': 8, 'safe_to_bootstrap': False},
                         wsrep.recovered_position(log))
        self.assertIsNone(wsrep.recovered_position('nothing here'))
        # MariaDB 10.11 follows it with the GTID.
        self.assertEqual({'uuid': 'acaa26e8-f253-11f1-a100-f76e95a40a4a',
                          'seqno': 12173, 'safe_to_bootstrap': False},
                         wsrep.recovered_position(
                             '[Note] WSREP: Recovered position: acaa26e8-'
                             'f253-11f1-a100-f76e95a40a4a:12173,0-0-0\n'))


class TemplateTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.engine = lifecycle.MariadbLifecycle(
            '/nonexistent/root', '192.0.2.2',
            os.path.join(self.volume, 'data'), {}, 512)

    def render(self) -> str:
        return templating.render('mariadb', self.engine._context())

    def test_standalone_has_no_wsrep(self) -> None:
        text = self.render()
        self.assertNotIn('wsrep', text)
        self.assertIsNone(self.engine.galera_settings())

    def test_member(self) -> None:
        cluster.save_state(self.engine, STATE)
        text = self.render()
        options = overrides.parse_options(text)
        self.assertEqual('ON', options['wsrep_on'])
        self.assertEqual('mariabackup', options['wsrep_sst_method'])
        self.assertEqual('ROW', options['binlog_format'])
        self.assertEqual('2', options['innodb_autoinc_lock_mode'])
        self.assertEqual(wsrep.DEFAULT_PROVIDER, options['wsrep_provider'])
        # The memory settings stay in [mysqld] after the [sst] group.
        self.assertEqual('256M', options['innodb_buffer_pool_size'])
        self.assertEqual({'sockopt': 'bind=192.0.2.2'},
                         overrides.parse_options(text, 'sst'))
        # The SST password is in the included file only.
        self.assertNotIn('s3cret', text)
        self.assertIn('!include %s' % self.engine.wsrep_secrets_path, text)


class JoinTest(testtools.TestCase):
    """Which way cluster_join goes, the engine's moves mocked."""

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.engine = mock.Mock(
            spec=lifecycle.MariadbLifecycle, address='192.0.2.1',
            agent_dir=os.path.join(self.volume, 'agent'),
            datadir=os.path.join(self.volume, 'data', 'mysql'),
            wsrep_secrets_path=os.path.join(self.volume, 'data', 'secrets'))
        self.galera = galera.MariadbGalera(self.engine)
        self.galera.configure({'id': STATE['id'], 'secret': 'pw'})
        self.patch = self.useFixture(fixtures.MockPatchObject(
            galera, 'answers', return_value=False)).mock
        for name in ('_bootstrap', '_start', 'wait_until_serving'):
            self.useFixture(fixtures.MockPatchObject(
                galera.MariadbGalera, name))
        self.useFixture(fixtures.MockPatchObject(
            galera.MariadbGalera, '_status', return_value={'state': 'ok'}))

    def test_the_first_bootstraps_when_nobody_answers(self) -> None:
        self.galera.join(MEMBERS)
        self.galera._bootstrap.assert_called_once()
        self.assertEqual('m-1', self.galera._bootstrap.call_args[0][0]
                         ['self'])

    def test_the_others_wait_for_a_peer_then_copy(self) -> None:
        self.engine.address = '192.0.2.3'
        self.patch.side_effect = [False, False, True]
        self.galera.peer_timeout = 30
        self.galera.join(MEMBERS)
        self.galera._bootstrap.assert_not_called()
        self.engine.stop.assert_called_once_with()
        self.galera._start.assert_called_once_with(
            timeout=galera.JOIN_TIMEOUT)
        self.assertEqual(MEMBERS, cluster.load_state(self.engine)['members'])

    def test_no_peer_is_an_error(self) -> None:
        self.engine.address = '192.0.2.3'
        self.galera.peer_timeout = 0
        self.assertRaises(cluster.ClusterError, self.galera.join, MEMBERS)
        self.galera._start.assert_not_called()

    def test_a_member_that_serves_takes_the_new_list(self) -> None:
        cluster.save_state(self.engine, dict(STATE, self='m-1'))
        self.engine.is_running.return_value = True
        grown = MEMBERS + [{'id': 'm-4', 'address': '192.0.2.4'}]
        self.galera.join(grown)
        self.engine.stop.assert_not_called()
        self.engine._write_conf.assert_called_once_with()
        self.assertEqual(grown, cluster.load_state(self.engine)['members'])

    def test_the_first_with_a_history_never_bootstraps(self) -> None:
        os.makedirs(self.engine.datadir)
        with open(os.path.join(self.engine.datadir, wsrep.GRASTATE),
                  'w') as out:
            out.write(wsrep.grastate_text({'uuid': 'u-1', 'seqno': 3}))
        self.galera.peer_timeout = 0
        self.assertRaises(cluster.ClusterError, self.galera.join, MEMBERS)
        self.galera._bootstrap.assert_not_called()

    def test_bad_addresses_never_reach_my_cnf(self) -> None:
        error = self.assertRaises(
            exception.BadRequest, self.galera.join,
            [{'id': 'm-1', 'address': '192.0.2.1\nwsrep_on = OFF'}])
        self.assertIn('is not an IP address', error.message)
        error = self.assertRaises(exception.BadRequest, self.galera.join,
                                  MEMBERS[1:])
        self.assertIn("this instance's address 192.0.2.1", error.message)

    def test_forget_and_leave(self) -> None:
        cluster.save_state(self.engine, dict(STATE, self='m-1'))
        self.galera.forget([MEMBERS[2]])
        self.assertEqual(MEMBERS[:2],
                         cluster.load_state(self.engine)['members'])
        self.galera.leave()
        self.engine.stop.assert_called_once_with()
        state = cluster.load_state(self.engine)
        self.assertNotIn('members', state)
        self.assertEqual(STATE['secret'], state['secret'])


class DescriptorTest(testtools.TestCase):

    def test_both_managers_have_galera(self) -> None:
        engine = lifecycle.MariadbLifecycle('/r', '192.0.2.1', '/v/data', {},
                                            512)
        for manager in ('mysql', 'mariadb'):
            self.assertIsInstance(
                loader.capability('cluster', manager, engine),
                galera.MariadbGalera)
