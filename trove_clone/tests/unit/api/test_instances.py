"""Instance routes: create, show, rename, actions, delete, and every bad
input answered with the right code and nothing recorded."""
import datetime

import fixtures

from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import models
from trove_clone.services import quotas
from trove_clone.tests.unit.api import base


class RecordingTasks:
    """Stands in for the taskmanager's RPC client."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.fail = False

    def __getattr__(self, name: str):
        def record(context, *args):
            if self.fail:
                raise RuntimeError('no taskmanager')
            self.calls.append((name,) + args)
        return record

    def reapply_module(self, context, module_id: str, md5: str | None,
                       include_clustered: bool, batch_size: int,
                       batch_delay: int, force: bool) -> None:
        """Records ('reapply_module', module_id, {the other arguments})."""
        if self.fail:
            raise RuntimeError('no taskmanager')
        self.calls.append(('reapply_module', module_id, {
            'md5': md5, 'include_clustered': include_clustered,
            'batch_size': batch_size, 'batch_delay': batch_delay,
            'force': force}))


class InstanceApiTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version(default=True)
        self.tasks = RecordingTasks()
        self.sent = 0.0
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks',
            lambda: self.tasks))

    def body(self, **changes) -> dict:
        instance = {'name': 'db1', 'flavorRef': '1', 'volume': {'size': 1},
                    'datastore': {'type': 'mysql', 'version': '5.7.29'}}
        instance.update(changes)
        return {'instance': instance}

    def create(self, status: int = 200, **changes):
        return self.send('POST', '/instances', self.body(**changes),
                         status=status)

    def count(self) -> int:
        return len(db_api.instance_list(self.context, None, 100))

    def make_active(self, instance_id: str) -> None:
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        self.sent += 1
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, self.sent)

    def test_create_records_and_casts(self) -> None:
        response = self.create(
            databases=[{'name': 'appdb'}],
            users=[{'name': 'app', 'password': 'pw',
                    'databases': [{'name': 'appdb'}]}])
        instance = response.json['instance']
        self.assertEqual('BUILD', instance['status'])
        self.assertEqual('', instance['operating_status'])
        self.assertEqual({'type': 'mysql', 'version': '5.7.29',
                          'version_number': '5.7.29'},
                         instance['datastore'])
        self.assertEqual({'size': 1}, instance['volume'])
        name, instance_id, request = self.tasks.calls[0]
        self.assertEqual(('create_instance', instance['id']),
                         (name, instance_id))
        self.assertEqual([{'name': 'appdb', 'character_set': None,
                           'collate': None}], request['databases'])
        self.assertEqual('%', request['users'][0]['host'])
        usage = {item['resource']: item['in_use'] for item in
                 quotas.show(self.context, self.project)}
        self.assertEqual({'instances': 1, 'ram': 512, 'volumes': 1,
                          'backups': 0}, usage)
        shown = self.get('/instances/%s' % instance['id']).json['instance']
        self.assertEqual(instance['id'], shown['id'])
        self.assertEqual('BUILD', shown['status'])

    def test_default_datastore_and_flavor_href(self) -> None:
        self.conf.config(default_datastore='mysql')
        body = self.body(flavorRef='http://x/v1.0/p/flavors/2')
        del body['instance']['datastore']
        instance = self.send('POST', '/instances', body,
                             status=200).json['instance']
        self.assertEqual('2', instance['flavor']['id'])
        self.assertEqual('5.7.29', instance['datastore']['version'])

    def test_bad_input_creates_nothing(self) -> None:
        cases = [
            (404, 'itemNotFound', {'flavorRef': '999'}, 'Flavor 999'),
            (404, 'itemNotFound', {'datastore': {'type': 'nosuch'}},
             'nosuch'),
            (404, 'itemNotFound', {'datastore': {
                'type': 'mysql', 'version': '9.9'}}, '9.9'),
            (413, 'overLimit', {'volume': {'size': 11}}, 'maximum'),
            (400, 'badRequest', {'volume': {'size': 'x'}}, 'volume'),
            (400, 'badRequest', {'volume': {'size': 0}}, 'volume'),
            (400, 'badRequest', {'users': [
                {'name': 'app', 'password': 'a'},
                {'name': 'app', 'password': 'b'}]}, 'app'),
            (400, 'badRequest', {'databases': [{'name': 'bad name!'}]},
             'bad name!'),
            (400, 'badRequest', {'databases': [{'name': 'mysql'}]},
             'reserved'),
            (400, 'badRequest', {'users': [{'name': 'root',
                                            'password': 'x'}]}, 'reserved'),
            (400, 'badRequest', {'name': ''}, 'name'),
            (404, 'itemNotFound', {'configuration':
                                   '4c3f1e0a-0000-4000-8000-000000000000'},
             'Configuration'),
        ]
        for code, name, change, text in cases:
            response = self.create(status=code, **change)
            self.assertError(response, code, name, text)
        body = self.body()
        del body['instance']['volume']
        self.assertError(self.send('POST', '/instances', body, status=400),
                         400, 'badRequest', 'Volume size')
        self.assertEqual(0, self.count())
        self.assertEqual([], self.tasks.calls)

    def test_inactive_version_and_unsupported_databases(self) -> None:
        self.make_version(name='old', active=False)
        self.assertError(self.create(status=400, datastore={
            'type': 'mysql', 'version': 'old'}), 400, 'badRequest', 'old')
        self.make_version(datastore='redis', name='7.0', manager='redis')
        self.assertError(self.create(status=501, datastore={
            'type': 'redis', 'version': '7.0'}, databases=[{'name': 'x'}]),
            501, 'notImplemented', 'redis')
        self.assertEqual(0, self.count())

    def test_quota_exceeded_creates_nothing(self) -> None:
        quotas.update(self.context, self.project, {'instances': 1})
        self.create()
        self.assertError(self.create(status=413), 413, 'overLimit',
                         'instances')
        self.assertEqual(1, self.count())
        quotas.update(self.context, self.project, {'volumes': 2,
                                                   'instances': 5})
        self.assertError(self.create(status=413, volume={'size': 2}), 413,
                         'overLimit', 'volumes')
        self.assertEqual(1, self.count())

    def test_a_failed_cast_leaves_a_visible_error(self) -> None:
        self.tasks.fail = True
        instance = self.create().json['instance']
        self.assertEqual('ERROR', instance['status'])
        self.assertIn('taskmanager', instance['fault']['message'])
        self.assertIn('no taskmanager', instance['fault']['details'])

    def test_actions_wait_for_the_build(self) -> None:
        instance_id = self.create().json['instance']['id']
        path = '/instances/%s/action' % instance_id
        for body in ({'restart': {}}, {'resize': {'volume': {'size': 2}}},
                     {'resize': {'flavorRef': '2'}}):
            self.assertError(self.send('POST', path, body, status=422), 422,
                             'unprocessableEntity', 'not currently')
        self.assertError(self.send('DELETE', '/instances/%s' % instance_id,
                                   status=422), 422, 'unprocessableEntity',
                         'BUILD')
        self.assertError(self.get('/instances/%s/users' % instance_id,
                                  status=422), 422, 'unprocessableEntity',
                         'BUILD')
        self.assertEqual(['create_instance'],
                         [call[0] for call in self.tasks.calls])

    def test_actions_on_an_active_instance(self) -> None:
        instance_id = self.create().json['instance']['id']
        self.make_active(instance_id)
        shown = self.get('/instances/%s' % instance_id).json['instance']
        self.assertEqual(('ACTIVE', 'HEALTHY'),
                         (shown['status'], shown['operating_status']))
        path = '/instances/%s/action' % instance_id
        self.send('POST', path, {'restart': {}})
        shown = self.get('/instances/%s' % instance_id).json['instance']
        self.assertEqual('REBOOT', shown['status'])
        # A second action while the first runs: one wins, 422 for others.
        self.assertError(self.send('POST', path, {'restart': {}},
                                   status=422), 422, 'unprocessableEntity')
        self.make_active(instance_id)
        self.assertError(self.send('POST', path, {'resize': {'volume': {
            'size': 1}}}, status=400), 400, 'badRequest', 'larger')
        self.assertError(self.send('POST', path, {'resize': {'volume': {
            'size': 50}}}, status=413), 413, 'overLimit')
        self.send('POST', path, {'resize': {'volume': {'size': 3}}})
        self.make_active(instance_id)
        self.assertError(self.send('POST', path, {'resize': {
            'flavorRef': '1'}}, status=400), 400, 'badRequest', 'already')
        self.send('POST', path, {'resize': {'flavorRef': '2'}})
        self.assertEqual(
            [('restart', instance_id), ('resize_volume', instance_id, 3),
             ('resize_flavor', instance_id, '1', '2')],
            self.tasks.calls[1:])
        usage = {item['resource']: item['in_use'] for item in
                 quotas.show(self.context, self.project)}
        self.assertEqual(3, usage['volumes'])
        self.assertEqual(1024, usage['ram'])

    def test_rename_reset_and_delete(self) -> None:
        instance_id = self.create().json['instance']['id']
        self.send('PUT', '/instances/%s' % instance_id,
                  {'instance': {'name': 'renamed'}})
        self.send('PATCH', '/instances/%s' % instance_id,
                  {'instance': {'name': 'renamed-2'}})
        self.assertEqual('renamed-2', self.get(
            '/instances/%s' % instance_id).json['instance']['name'])
        path = '/instances/%s/action' % instance_id
        self.assertError(self.send('POST', path, {'reset_status': {}},
                                   status=403), 403, 'forbidden')
        self.send('POST', path, {'reset_status': {}}, admin=True)
        shown = self.get('/instances/%s' % instance_id).json['instance']
        self.assertEqual('BUILD', shown['status'])
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        self.send('DELETE', '/instances/%s' % instance_id)
        self.assertEqual('SHUTDOWN', self.get(
            '/instances/%s' % instance_id).json['instance']['status'])
        self.assertError(self.send('DELETE', '/instances/%s' % instance_id,
                                   status=422), 422, 'unprocessableEntity')

    def test_other_projects_instances_are_not_found(self) -> None:
        instance_id = self.create().json['instance']['id']
        self.assertError(self.get('/instances/%s' % instance_id,
                                  project='project-b', status=404), 404,
                         'itemNotFound', instance_id)
        self.assertEqual(200, self.get('/instances/%s' % instance_id,
                                       admin=True,
                                       project='admin').status_int)

    def test_a_silent_guest_shows_shutdown(self) -> None:
        instance_id = self.create().json['instance']['id']
        self.make_active(instance_id)
        old = models.utcnow() - datetime.timedelta(seconds=600)
        with db_api.facade.writer.using(self.context) as session:
            session.query(models.ServiceStatus).filter_by(
                instance_id=instance_id).update({'updated_at': old})
        shown = self.get('/instances/%s' % instance_id).json['instance']
        self.assertEqual(('SHUTDOWN', 'SHUTDOWN'),
                         (shown['status'], shown['operating_status']))
        listed = self.get('/instances').json['instances']
        self.assertEqual('SHUTDOWN', listed[0]['status'])

    def test_mgmt_show_and_actions(self) -> None:
        instance_id = self.create().json['instance']['id']
        mgmt = '/mgmt/instances/%s' % instance_id
        self.assertError(self.get(mgmt, status=403), 403, 'forbidden')
        shown = self.get(mgmt, admin=True).json['instance']
        self.assertEqual(self.project, shown['tenant_id'])
        self.assertTrue(shown['encrypted_rpc_messaging'])
        self.send('POST', mgmt + '/action', {'reset-task-status': {}},
                  admin=True)
        self.assertEqual(statuses.NONE.code, db_instances.get(
            self.context, instance_id)['task_id'])
        db_instances.update(self.context, instance_id,
                            {'server_status': 'ACTIVE'})
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 2.0)
        self.send('POST', mgmt + '/action', {'reboot': {}}, admin=True)
        self.assertEqual(('reboot', instance_id), self.tasks.calls[-1])

    def test_upgrade_checks_the_target_version(self) -> None:
        instance_id = self.create().json['instance']['id']
        path = '/instances/%s' % instance_id
        body = {'instance': {'datastore_version': '5.7.29'}}
        self.assertError(self.send('PATCH', path, body, status=422), 422,
                         'unprocessableEntity')
        self.make_active(instance_id)
        older = self.make_version(name='5.6', version_number='5.6.1')
        newer = self.make_version(name='8.0', version_number='8.0.36')
        self.make_version(name='9.0', version_number='9.0.1', active=False)
        other = self.make_version(datastore='redis', name='7.0',
                                  manager='redis')
        cases = [('nosuch', 404, 'itemNotFound', 'nosuch'),
                 (other['id'], 400, 'badRequest', 'redis'),
                 ('9.0', 400, 'badRequest', 'not active'),
                 (older['id'], 400, 'badRequest', 'downgrades')]
        for reference, code, name, text in cases:
            self.assertError(self.send('PATCH', path, {'instance': {
                'datastore_version': reference}}, status=code), code, name,
                text)
        self.send('PATCH', path, {'instance': {'datastore_version': '8.0'}})
        self.assertEqual(('upgrade', instance_id, newer['id']),
                         self.tasks.calls[-1])
        self.assertEqual('UPGRADE', self.get(path).json['instance'][
            'status'])
        self.make_active(instance_id)
        # The version it already runs is allowed (the spec's int-test).
        self.send('PUT', path, {'instance': {
            'datastore_version': self.version['id']}})
        self.assertEqual(('upgrade', instance_id, self.version['id']),
                         self.tasks.calls[-1])

    def test_disabled_default_is_kept_and_not_used(self) -> None:
        """Seed 001: ``datastore version set --disable`` then
        ``--enable``; Trove keeps the default all along and refuses a
        create that needs it while it is disabled."""
        body = self.body()
        del body['instance']['datastore']['version']
        path = '/mgmt/datastore-versions/%s' % self.version['id']
        self.send('PATCH', path, {'active': False}, admin=True)
        self.assertError(self.send('POST', '/instances', body, status=400),
                         400, 'badRequest', '5.7.29 is not active')
        shown = self.get('/datastores/mysql', admin=True).json['datastore']
        self.assertEqual(self.version['id'], shown['default_version'])
        # A member does not see the disabled version, nor it as default.
        self.get('/datastores/mysql', status=404)
        self.assertEqual(0, self.count())
        self.send('PATCH', path, {'active': True}, admin=True)
        created = self.send('POST', '/instances', body,
                            status=200).json['instance']
        self.assertEqual('5.7.29', created['datastore']['version'])
        self.assertEqual(self.version['id'], self.get(
            '/datastores/mysql').json['datastore']['default_version'])

    def test_member_sees_no_disabled_default(self) -> None:
        newer = self.make_version(name='8.0', version_number='8.0.36')
        self.send('PATCH', '/mgmt/datastore-versions/%s'
                  % self.version['id'], {'active': False}, admin=True)
        shown = self.get('/datastores/mysql').json['datastore']
        self.assertEqual([newer['id']], [v['id'] for v in shown['versions']])
        self.assertNotIn('default_version', shown)

    def test_admin_lists_show_tenant_and_server(self) -> None:
        """``openstack database instance list --all-projects`` reads
        GET /mgmt/instances; its Tenant ID and Server ID columns come from
        each item's ``tenant_id`` and ``server_id``."""
        instance_id = self.create().json['instance']['id']
        db_instances.update(self.context, instance_id,
                            {'server_id': 'server-1', 'volume_id': 'vol-1'})
        self.assertError(self.get('/mgmt/instances', status=403), 403,
                         'forbidden')
        listed = self.get('/mgmt/instances?deleted=False&include_clustered='
                          'False', admin=True).json['instances']
        self.assertEqual(1, len(listed))
        item = listed[0]
        self.assertEqual((instance_id, self.project, 'server-1', 'vol-1'),
                         (item['id'], item['tenant_id'], item['server_id'],
                          item['volume_id']))
        self.assertEqual((False, None, 'BUILD'), (
            item['deleted'], item['deleted_at'], item['status']))
        self.assertIn('service_status', item)
        self.assertIn('task_description', item)
        public = self.get('/instances', admin=True).json['instances'][0]
        self.assertEqual(self.project, public['tenant_id'])
        self.assertNotIn('tenant_id',
                         self.get('/instances').json['instances'][0])

    def test_replica_takes_flavor_volume_and_version_of_its_primary(
            self) -> None:
        """Trove: a replica request gives no flavor, volume or datastore;
        its primary must be ACTIVE (422 while it builds)."""
        primary = self.create().json['instance']['id']
        response = self.send('POST', '/instances', {'instance': {
            'name': 'replica', 'replica_of': primary, 'replica_count': 1}},
            status=422)
        self.assertError(response, 422, 'unprocessableEntity', primary)
        cases = [
            ({'locality': 'affinity'}, 400, 'badRequest',
             'Cannot specify locality'),
            ({'databases': [{'name': 'x'}]}, 400, 'badRequest',
             'users or databases'),
            ({'replica_of': '4c3f1e0a-0000-4000-8000-000000000000'}, 404,
             'itemNotFound', '4c3f1e0a-0000-4000-8000-000000000000'),
        ]
        for change, code, name, text in cases:
            instance = {'name': 'replica', 'replica_of': primary}
            instance.update(change)
            self.assertError(self.send('POST', '/instances', {
                'instance': instance}, status=code), code, name, text)
        # Another project's primary is not found.
        self.assertError(self.send('POST', '/instances', {'instance': {
            'name': 'replica', 'replica_of': primary}}, status=404,
            project='project-b'), 404, 'itemNotFound')
        db_instances.update(self.context, primary, {'slave_of_id': primary})
        self.assertError(self.send('POST', '/instances', {'instance': {
            'name': 'replica', 'replica_of': primary}}, status=403), 403,
            'forbidden', 'replica of a replica')
        self.assertError(self.create(status=400, replica_count=2), 400,
                         'badRequest', 'replica_count')
        body = self.body()
        del body['instance']['flavorRef']
        self.assertError(self.send('POST', '/instances', body, status=400),
                         400, 'badRequest', 'flavorRef')
        self.assertEqual(1, self.count())
        self.assertEqual(1, len(self.tasks.calls))
