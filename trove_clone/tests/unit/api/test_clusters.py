"""The clusters API: create (Trove's body and view, members, quota),
list, show, grow, shrink, reset-status, delete and their errors (the
taskmanager recorded, not run)."""
import fixtures

from trove_clone.common import cluster_tasks
from trove_clone.common import statuses
from trove_clone.db import clusters as db_clusters
from trove_clone.db import instances as db_instances
from trove_clone.services import quotas
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

UNKNOWN_ID = '4c3f1e0a-0000-4000-8000-000000000000'
MEMBER = {'flavorRef': '1', 'volume': {'size': 1}}


class ClusterApiTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(base.OTHER_IMAGE_ID, tags=['trove', 'redis'])
        self.redis = self.make_version(datastore='redis', name='7.0',
                                       manager='redis', default=True,
                                       image_id=base.OTHER_IMAGE_ID)
        self.mysql = self.make_version(default=True)
        self.tasks = test_instances.RecordingTasks()
        for module in ('instances', 'clusters'):
            self.useFixture(fixtures.MonkeyPatch(
                'trove_clone.api.controllers.v1.%s.tasks' % module,
                lambda: self.tasks))

    def create(self, members=None, status: int = 200, name: str = 'myclust',
               datastore=None, **extra):
        body = {'cluster': dict(
            name=name, datastore=datastore or {'type': 'redis',
                                               'version': '7.0'},
            instances=members if members is not None else [MEMBER] * 3,
            **extra)}
        return self.send('POST', '/clusters', body, status=status)

    def settle(self, cluster_id: str) -> None:
        """What the create flow leaves: members ACTIVE, no task."""
        for member in db_clusters.members(self.context, cluster_id):
            db_instances.set_task(self.context, member['id'], statuses.NONE,
                                  server_status='ACTIVE')
        db_clusters.set_task(self.context, cluster_id, cluster_tasks.NONE)

    def test_create_show_list(self) -> None:
        cluster = self.create().json['cluster']
        self.assertEqual({'type': 'redis', 'version': '7.0'},
                         cluster['datastore'])
        self.assertEqual({'id': 2, 'name': 'BUILDING',
                          'description': 'Building the initial cluster.'},
                         cluster['task'])
        self.assertEqual(['myclust-member-1', 'myclust-member-2',
                          'myclust-member-3'],
                         sorted(one['name'] for one in cluster['instances']))
        self.assertEqual({'member'}, {one['type'] for one in
                                      cluster['instances']})
        self.assertEqual([('create_cluster', cluster['id'])],
                         self.tasks.calls)
        # Members count against the quota, and are hidden from the list.
        usage = {item['resource']: item['in_use'] for item in
                 quotas.show(self.context, self.project)}
        self.assertEqual((3, 3), (usage['instances'], usage['volumes']))
        self.assertEqual([], self.get('/instances').json['instances'])
        self.assertEqual(3, len(self.get(
            '/instances?include_clustered=true').json['instances']))
        shown = self.get('/clusters/%s' % cluster['id']).json['cluster']
        self.assertEqual(cluster['id'], shown['id'])
        listed = self.get('/clusters').json
        self.assertEqual([cluster['id']], [one['id'] for one in
                                           listed['clusters']])
        member = cluster['instances'][0]['id']
        self.assertEqual(member, self.get('/clusters/%s/instances/%s' % (
            cluster['id'], member)).json['instance']['id'])
        self.get('/clusters/%s/instances/%s' % (cluster['id'], UNKNOWN_ID),
                 status=404)
        # Another project sees nothing.
        self.get('/clusters/%s' % cluster['id'], project='project-b',
                 status=404)

    def test_bad_requests_make_nothing(self) -> None:
        response = self.create(members=[MEMBER] * 2, status=400)
        self.assertError(response, 400, 'badRequest', 'at least 3')
        response = self.create(members=[MEMBER, MEMBER, {'flavorRef': '1'}],
                               status=400)
        self.assertError(response, 400, 'badRequest', 'instances[2]')
        response = self.create(members=[dict(MEMBER, type='arbiter')] * 3,
                               status=400)
        self.assertError(response, 400, 'badRequest', 'instances[0].type')
        response = self.create(status=400, datastore={'type': 'redis'})
        self.assertError(response, 400, 'badRequest', 'version')
        response = self.create(
            status=501, datastore={'type': 'mysql', 'version': '5.7.29'})
        self.assertError(response, 501, 'notImplemented',
                         'Clusters not supported for mysql-5.7.29')
        quotas.update(self.context, self.project, {'instances': 2})
        response = self.create(status=413)
        self.assertEqual(413, response.status_int)
        self.assertEqual([], self.get('/clusters').json['clusters'])
        self.assertEqual([], self.get(
            '/instances?include_clustered=true').json['instances'])
        self.assertEqual([], self.tasks.calls)

    def test_grow_shrink_delete(self) -> None:
        cluster = self.create().json['cluster']
        path = '/clusters/%s' % cluster['id']
        # Busy while it builds.
        self.send('POST', path, {'grow': [MEMBER]}, status=422)
        self.settle(cluster['id'])
        grown = self.send('POST', path, {'grow': [MEMBER]}).json['cluster']
        self.assertEqual('GROWING_CLUSTER', grown['task']['name'])
        new = [one for one in grown['instances']
               if one['name'] == 'myclust-member-4']
        self.assertEqual(1, len(new))
        self.assertEqual(('grow_cluster', cluster['id'], [new[0]['id']]),
                         self.tasks.calls[-1])
        self.send('POST', path, {'shrink': [{'id': new[0]['id']}]},
                  status=422)
        self.settle(cluster['id'])
        response = self.send('POST', path, {'shrink': [{'id': UNKNOWN_ID}]},
                             status=400)
        self.assertError(response, 400, 'badRequest', 'not a member')
        members = [one['id'] for one in grown['instances']]
        response = self.send('POST', path, {'shrink': [
            {'id': one} for one in members[:2]]}, status=400)
        self.assertError(response, 400, 'badRequest', 'at least 3')
        shrunk = self.send('POST', path, {'shrink': [{'id': members[0]}]})
        self.assertEqual('SHRINKING_CLUSTER',
                         shrunk.json['cluster']['task']['name'])
        # A member is deleted with its cluster, not alone.
        self.send('DELETE', '/instances/%s' % members[1], status=501)
        self.send('POST', path, {'reset-status': {}}, status=403)
        self.send('POST', path, {'reset-status': {}}, admin=True)
        self.assertEqual('NONE', self.get(path).json['cluster']['task'][
            'name'])
        response = self.send('POST', path, {'add_shard': {}}, status=400)
        self.assertError(response, 400, 'badRequest', 'add_shard')
        self.send('POST', path, {'grow': [], 'shrink': []}, status=400)
        self.send('DELETE', path)
        self.assertEqual(('delete_cluster', cluster['id']),
                         self.tasks.calls[-1])
        self.assertEqual('DELETING', self.get(path).json['cluster'][
            'task']['name'])
        self.get('/clusters/%s' % UNKNOWN_ID, status=404)
