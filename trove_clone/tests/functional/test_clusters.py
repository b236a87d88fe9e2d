"""Clusters, through python-troveclient and the legacy ``trove`` CLI, on
one deployment (Keystone: the seed runs as an administrator):

* seed 003's cluster steps exactly as written (with this deployment's
  Redis version and flavor): ``cluster-create myclust redis VERSION
  --instance=flavor=F,volume=1,module=mymod`` three times, the module
  counts with and without ``--include_clustered``, ``cluster-instances``,
  ``module-apply`` to one member, the counts after it, then
  ``cluster-delete`` and nothing left;
* Redis Cluster, on the seed's cluster before it is deleted: 10,000
  keys written through redis-py's cluster client, grow by one member,
  shrink by one, every key still there.
"""
import os
import time

import fixtures
from redis import cluster as redis_cluster

from trove_clone.tests.functional import base
from trove_clone.tests.functional import instances as deployment
from trove_clone.tests.functional import test_modules

WAIT = 300
KEYS = 10000
table = test_modules.table
properties = test_modules.properties
SEED_MD5 = test_modules.SEED_MD5


class ClustersTest(deployment.DeploymentTestCase):
    address_pool = '127.77.168.0/28'

    @classmethod
    def setUpClass(cls) -> None:
        cls.deployment = deployment.Deployment(
            cls.address_pool, datastores=('redis',), keystone=True)
        try:
            cls.deployment.setUp()
        except BaseException:
            cls.deployment.cleanUp()
            raise

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        self.version = self.deployment.versions['redis']
        self.client = self.deployment.client()

    # --- helpers ------------------------------------------------------------

    def trove(self, *argv: str, fails: bool = False) -> str:
        env = base.cli_env(self.deployment.keystone.url, {
            'username': 'admin', 'project_name': 'admin',
            'password': self.deployment.keystone.admin_password})
        # Generous: on a loaded machine a command that looks several
        # things up (cluster-create: a module and a flavor per member)
        # takes minutes.
        return base.run_cli(self, env, argv, expect_failure=fails,
                            cwd=self.work, timeout=600)

    def echo(self, text: str, name: str) -> None:
        with open(os.path.join(self.work, name), 'w') as target:
            target.write(text + '\n')

    def counts(self, *extra: str) -> list[tuple]:
        return [(row['Module MD5'], row['Current'], row['Count'])
                for row in table(self.trove('trove', 'module-instance-count',
                                            'mymod', *extra))]

    def wait_cluster(self, cluster_id: str, members: int):
        """Until the cluster has no task and ``members`` ACTIVE members;
        returns it."""
        deadline = time.monotonic() + WAIT
        while True:
            cluster = self.client.clusters.get(cluster_id)
            states = [one.get('status') for one in cluster.instances]
            if cluster.task['name'] == 'NONE':
                # The action is over (its task was set before it was
                # accepted): it failed if the members are not there.
                self.assertEqual(members, len(states), cluster._info)
                if states == ['ACTIVE'] * members:
                    return cluster
            if 'ERROR' in states:
                self.fail('a member is in ERROR: %s' % self.faults(cluster))
            self.assertLess(time.monotonic(), deadline, cluster._info)
            time.sleep(0.5)

    def faults(self, cluster) -> list:
        """(name, status, fault) of the cluster's members, to say why
        an action failed."""
        found = []
        for one in cluster.instances:
            shown = self.client.instances.get(one['id'])._info
            found.append((one['name'], one.get('status'),
                          shown.get('fault')))
        return found

    def wait_gone(self, cluster_id: str) -> None:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                self.client.clusters.get(cluster_id)
            except Exception:  # noqa: B902 - NotFound: it is gone
                return
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.5)

    def delete_clusters(self) -> None:
        for cluster in self.client.clusters.list():
            self.delete_cluster(cluster.id)

    def delete_cluster(self, cluster_id: str) -> None:
        try:
            self.client.clusters.reset_status(cluster_id)
            self.client.clusters.delete(cluster_id)
        except Exception:  # noqa: B902 - gone already
            pass
        self.wait_gone(cluster_id)

    # --- seed 003 -----------------------------------------------------------

    def test_seed_003_cluster(self) -> None:
        """Seed 003's cluster steps, with Redis Cluster's grow and
        shrink on the seed's cluster before it is deleted (one cluster:
        functional time is scarce)."""
        self.echo('message=Module.V1', 'ping1.dat')
        self.trove('trove', 'module-create', 'mymod', 'ping', 'ping1.dat',
                   '--live_update')
        myinst = properties(self.trove('trove', 'create', 'myinst', '1',
                                       '--size', '1', '--module', 'mymod'))
        self.addCleanup(self.deployment.delete_and_wait, myinst['id'])
        self.echo('message=Module.V2', 'ping2.dat')
        self.trove('trove', 'module-update', 'mymod', '--file', 'ping2.dat')

        # Whatever happens to the CLI, no cluster outlives the test.
        self.addCleanup(self.delete_clusters)
        option = '--instance=flavor=1,volume=1,module=mymod'
        created = properties(self.trove(
            'trove', 'cluster-create', 'myclust', 'redis', self.version,
            option, option, option))
        self.assertEqual(
            {'datastore': 'redis', 'datastore_version': self.version,
             'instance_count': '3', 'name': 'myclust',
             'task_description': 'Building the initial cluster.',
             'task_name': 'BUILDING'},
            {key: created[key] for key in (
                'datastore', 'datastore_version', 'instance_count', 'name',
                'task_description', 'task_name')})
        self.assertEqual({'created', 'datastore', 'datastore_version', 'id',
                          'instance_count', 'name', 'task_description',
                          'task_name', 'updated'}, set(created))

        self.assertEqual([(SEED_MD5[1], 'False', '1')], self.counts())
        self.assertEqual([(SEED_MD5[1], 'False', '1'),
                          (SEED_MD5[2], 'True', '3')],
                         self.counts('--include_clustered'))
        self.echo('message=Module.V3', 'ping3.dat')
        self.trove('trove', 'module-update', 'mymod', '--file', 'ping3.dat')
        self.assertEqual([(SEED_MD5[1], 'False', '1'),
                          (SEED_MD5[2], 'False', '3')],
                         self.counts('--include_clustered'))

        self.wait_cluster(created['id'], 3)
        members = table(self.trove('trove', 'cluster-instances', 'myclust'))
        self.assertEqual(['ID', 'Name', 'Flavor ID', 'Size', 'Status'],
                         list(members[0]))
        self.assertEqual([('myclust-member-%d' % number, '1', '1', 'ACTIVE')
                          for number in (1, 2, 3)],
                         sorted((row['Name'], row['Flavor ID'], row['Size'],
                                 row['Status']) for row in members))
        # Members are not in the instance list, unless asked for.
        listed = self.client.instances.list()
        self.assertEqual(['myinst'], [one.name for one in listed])
        self.assertEqual(4, len(self.client.instances.list(
            include_clustered=True)))

        member = members[0]['ID']
        applied = table(self.trove('trove', 'module-apply', member, 'mymod'))
        self.assertEqual([('mymod', 'OK', 'Module.V3')],
                         [(row['Name'], row['Status'], row['Message'])
                          for row in applied])
        self.assertEqual([(SEED_MD5[1], 'False', '1'),
                          (SEED_MD5[2], 'False', '2'),
                          (SEED_MD5[3], 'True', '1')],
                         self.counts('--include_clustered'))

        # The other commands work unchanged.
        shown = properties(self.trove('trove', 'cluster-show', 'myclust'))
        self.assertEqual(('NONE', 'ok'), (shown['task_name'],
                                          shown['cluster_state']))
        self.assertEqual(3, len(shown['ip'].split(',')))
        listed = self.trove('openstack', 'database', 'cluster', 'list',
                            '-f', 'value', '-c', 'Name')
        self.assertEqual('myclust', listed.strip())
        error = self.assertRaises(Exception, self.client.instances.delete,
                                  member)
        self.assertEqual(501, error.http_status)
        self.assertIn('part of a cluster', str(error))

        self.redis_cluster_grow_shrink(created['id'])

        self.trove('trove', 'cluster-delete', 'myclust')
        self.wait_gone(created['id'])
        self.assertEqual([(SEED_MD5[1], 'False', '1')],
                         self.counts('--include_clustered'))
        self.assertEqual(['myinst'], [one.name for one in
                                      self.client.instances.list(
                                          include_clustered=True)])

    # --- Redis Cluster ------------------------------------------------------

    def redis_client(self, cluster) -> redis_cluster.RedisCluster:
        return redis_cluster.RedisCluster(
            host=cluster.ip[0], port=6379, username='app',
            password='app-password', socket_timeout=10)

    def all_keys_there(self, client) -> None:
        pipe = client.pipeline()
        for number in range(KEYS):
            pipe.get('key:%d' % number)
        values = pipe.execute()
        self.assertEqual([b'value-%d' % number for number in range(KEYS)],
                         values)

    def redis_cluster_grow_shrink(self, cluster_id: str) -> None:
        """10,000 keys through redis-py's cluster client; grow by one
        member (trove cluster-grow), shrink by one (the API); every key
        is still there."""
        cluster = self.client.clusters.get(cluster_id)
        self.assertEqual('ok', cluster.cluster_state)
        for member in cluster.instances:
            self.client.users.create(member['id'], [
                {'name': 'app', 'password': 'app-password'}])
        client = self.redis_client(cluster)
        pipe = client.pipeline()
        for number in range(KEYS):
            pipe.set('key:%d' % number, 'value-%d' % number)
        pipe.execute()
        self.assertEqual(3, len(client.get_primaries()))
        client.close()

        self.trove('trove', 'cluster-grow', 'myclust',
                   '--instance=flavor=1,volume=1')
        cluster = self.wait_cluster(cluster.id, 4)
        self.assertEqual('ok', cluster.cluster_state)
        self.assertEqual('myclust-member-4', cluster.instances[3]['name'])
        client = self.redis_client(cluster)
        self.assertEqual(4, len(client.get_primaries()))
        self.all_keys_there(client)
        client.close()

        leaving = cluster.instances[0]['id']
        self.client.clusters.shrink(cluster.id, [{'id': leaving}])
        cluster = self.wait_cluster(cluster.id, 3)
        self.assertNotIn(leaving, [one['id'] for one in cluster.instances])
        self.assertEqual('ok', cluster.cluster_state)
        client = self.redis_client(cluster)
        self.assertEqual(3, len(client.get_primaries()))
        self.all_keys_there(client)
        client.close()
