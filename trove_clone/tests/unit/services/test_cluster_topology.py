"""Pure cluster-shape rules: Galera's quorum, MongoDB's topology."""
import os
import tempfile

from oslo_config import cfg
import testtools

from trove_clone.common import exception
from trove_clone.conf import mongodb as mongodb_conf
from trove_clone.services import cluster_topology as topology

VERSION = {'name': '7.0', 'image_id': 'image-1'}
SMALL = {'flavor_id': '15', 'volume_size': 1}


class GaleraQuorumTest(testtools.TestCase):

    def test_create_needs_three(self) -> None:
        topology.check_galera_size(3)
        topology.check_galera_size(4)
        error = self.assertRaises(topology.TopologyError,
                                  topology.check_galera_size, 2)
        self.assertEqual(400, error.code)
        self.assertIn('at least 3 instances (2 asked)', error.message)

    def test_shrink_to_an_odd_count_of_three_or_more(self) -> None:
        self.assertEqual(3, topology.check_galera_shrink(5, 2))
        self.assertEqual(3, topology.check_galera_shrink(4, 1))
        self.assertEqual(5, topology.check_galera_shrink(7, 2))

    def test_shrink_below_three_is_refused(self) -> None:
        for current, removed in ((3, 1), (4, 2), (5, 3), (3, 3)):
            error = self.assertRaises(topology.TopologyError,
                                      topology.check_galera_shrink,
                                      current, removed)
            self.assertIsInstance(error, exception.BadRequest)
            self.assertIn('at least 3 must stay', error.message)
        # Even with an arbitrator: two data members cannot lose one.
        self.assertRaises(topology.TopologyError,
                          topology.check_galera_shrink, 3, 1, True)

    def test_shrink_to_an_even_count_needs_an_arbitrator(self) -> None:
        error = self.assertRaises(topology.TopologyError,
                                  topology.check_galera_shrink, 5, 1)
        self.assertIn('from 5 to 4 instances is refused', error.message)
        self.assertIn('Remove 2 or 2 instances', error.message)
        error = self.assertRaises(topology.TopologyError,
                                  topology.check_galera_shrink, 7, 3)
        self.assertIn('Remove 2 or 4 instances', error.message)
        self.assertEqual(4, topology.check_galera_shrink(5, 1,
                                                         arbitrator=True))

    def test_nothing_removed_is_refused(self) -> None:
        self.assertRaises(topology.TopologyError,
                          topology.check_galera_shrink, 5, 0)


class MongodbPlanTest(testtools.TestCase):

    def plan(self, config_servers=1, routers=1, per_shard=3,
             instances=None, version=VERSION) -> topology.Plan:
        return topology.plan_mongodb_cluster(
            'shop', instances or [SMALL] * per_shard, version,
            config_servers, routers, per_shard)

    def test_default_shape_counts_routers_and_config_servers(self) -> None:
        plan = self.plan()
        self.assertEqual(
            [('shop-rs1-1', 'member', 'rs1'), ('shop-rs1-2', 'member', 'rs1'),
             ('shop-rs1-3', 'member', 'rs1'),
             ('shop-configsvr-1', 'config_server', None),
             ('shop-mongos-1', 'query_router', None)],
            [(member.name, member.role, member.shard)
             for member in plan.members])
        self.assertEqual(5, plan.instance_count)
        self.assertEqual(5, plan.volume_gb)

    def test_three_of_each(self) -> None:
        plan = self.plan(3, 3)
        self.assertEqual(9, plan.instance_count)
        self.assertEqual(3, len(plan.of_role(topology.CONFIG_SERVER)))
        self.assertEqual(3, len(plan.of_role(topology.QUERY_ROUTER)))
        self.assertEqual(['15'], sorted({member.flavor_id
                                         for member in plan.members}))

    def test_counts_other_than_one_or_three_are_refused(self) -> None:
        for config_servers, routers, name in (
                (2, 1, 'num_config_servers_per_cluster'),
                (1, 0, 'num_query_routers_per_cluster')):
            error = self.assertRaises(topology.TopologyError, self.plan,
                                      config_servers, routers)
            self.assertIn('[mongodb] %s must be 1 or 3' % name,
                          error.message)

    def test_no_registered_version_is_a_400_naming_it(self) -> None:
        error = self.assertRaises(topology.TopologyError, self.plan,
                                  version=None)
        self.assertEqual(400, error.code)
        self.assertIn('No MongoDB datastore version is registered',
                      error.message)
        self.assertIn('guest image', error.message)
        error = self.assertRaises(topology.TopologyError, self.plan,
                                  version={'name': '7.0', 'image_id': None})
        self.assertIn('MongoDB datastore version 7.0 has no guest image',
                      error.message)
        # Image tags are an image too.
        self.plan(version={'name': '7.0', 'image_tags': 'mongodb'})

    def test_a_shard_has_members_per_shard_instances_alike(self) -> None:
        error = self.assertRaises(topology.TopologyError, self.plan,
                                  instances=[SMALL, SMALL])
        self.assertIn('3 members ([mongodb] members_per_shard): 2 '
                      'instances', error.message)
        error = self.assertRaises(
            topology.TopologyError, self.plan,
            instances=[SMALL, SMALL, {'flavor_id': '16', 'volume_size': 1}])
        self.assertIn('same flavor and volume size', error.message)
        error = self.assertRaises(topology.TopologyError, self.plan,
                                  instances=[{'volume_size': 1}] * 3)
        self.assertIn('instances[0] needs a flavorRef', error.message)
        self.assertEqual(3, self.plan(per_shard=1, instances=[SMALL])
                         .instance_count)

    def test_add_shard(self) -> None:
        existing = list(self.plan().members)
        plan = topology.plan_mongodb_add_shard('shop', existing, None, 3)
        self.assertEqual(['shop-rs2-1', 'shop-rs2-2', 'shop-rs2-3'],
                         [member.name for member in plan.members])
        self.assertEqual({'member'}, {member.role for member in plan.members})
        self.assertEqual(3, plan.instance_count)
        existing += plan.members
        plan = topology.plan_mongodb_add_shard(
            'shop', existing, [{'flavor_id': '16', 'volume_size': 2}] * 3, 3)
        self.assertEqual('rs3', plan.members[0].shard)
        self.assertEqual(6, plan.volume_gb)
        self.assertRaises(topology.TopologyError,
                          topology.plan_mongodb_add_shard, 'shop',
                          existing, [SMALL], 3)
        self.assertRaises(topology.TopologyError,
                          topology.plan_mongodb_add_shard, 'shop',
                          self.plan().of_role(topology.QUERY_ROUTER), None,
                          3)

    def test_delete_takes_routers_and_config_servers(self) -> None:
        plan = self.plan(3, 3)
        self.assertEqual(9, len(topology.deleted_with_cluster(plan.members)))


class MongodbOptionsTest(testtools.TestCase):

    def conf(self, text: str) -> cfg.ConfigOpts:
        conf = cfg.ConfigOpts()
        mongodb_conf.register_opts(conf)
        with tempfile.NamedTemporaryFile('w', suffix='.conf',
                                         delete=False) as source:
            source.write(text)
        self.addCleanup(os.unlink, source.name)
        conf(['--config-file', source.name])
        return conf

    def test_defaults_are_one_of_each(self) -> None:
        conf = self.conf('')
        mongodb_conf.validate(conf)
        plan = topology.plan_mongodb_cluster_from_conf(
            conf, 'shop', [SMALL] * 3, VERSION)
        self.assertEqual(5, plan.instance_count)

    def test_three_of_each_from_the_file(self) -> None:
        conf = self.conf('[mongodb]\nnum_config_servers_per_cluster = 3\n'
                         'num_query_routers_per_cluster = 3\n')
        mongodb_conf.validate(conf)
        self.assertEqual(9, topology.plan_mongodb_cluster_from_conf(
            conf, 'shop', [SMALL] * 3, VERSION).instance_count)

    def test_other_values_stop_the_start(self) -> None:
        for text in ('[mongodb]\nnum_config_servers_per_cluster = 2\n',
                     '[mongodb]\nnum_query_routers_per_cluster = 5\n',
                     '[mongodb]\nmembers_per_shard = 9\n'):
            conf = self.conf(text)
            error = self.assertRaises(cfg.ConfigFileValueError,
                                      mongodb_conf.validate, conf)
            self.assertIn(text.split('\n')[1].split(' =')[0], str(error))


class MostAdvancedTest(testtools.TestCase):

    def test_highest_seqno_of_the_common_history(self) -> None:
        self.assertEqual('b', topology.most_advanced({
            'a': {'uuid': 'u1', 'seqno': 10},
            'b': {'uuid': 'u1', 'seqno': 12},
            'c': {'uuid': 'u1', 'seqno': 11},
            # Another history, however advanced, is not the cluster's.
            'd': {'uuid': 'u2', 'seqno': 99}}))

    def test_tie_goes_to_the_safe_one_then_the_smallest_id(self) -> None:
        self.assertEqual('c', topology.most_advanced({
            'a': {'uuid': 'u', 'seqno': 5},
            'c': {'uuid': 'u', 'seqno': 5, 'safe_to_bootstrap': True}}))
        self.assertEqual('a', topology.most_advanced({
            'b': {'uuid': 'u', 'seqno': 5}, 'a': {'uuid': 'u', 'seqno': 5}}))

    def test_unknown_positions_are_left_out(self) -> None:
        self.assertEqual('b', topology.most_advanced({
            'a': None, 'b': {'uuid': 'u', 'seqno': 0},
            'c': {'uuid': 'u', 'seqno': -1}, 'd': {'uuid': None,
                                                   'seqno': 7}}))
        error = self.assertRaises(topology.TopologyError,
                                  topology.most_advanced,
                                  {'a': None, 'b': {'uuid': 'u',
                                                    'seqno': -1}})
        self.assertIn('asked: a, b', error.message)
