"""The backups API: create rules, quota, BACKUP status, lists, delete,
strategies and restore checks (the taskmanager recorded, not run)."""
import base64
import os

import fixtures

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import deployment_secrets
from trove_clone.services import quotas
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

UNKNOWN_ID = '4c3f1e0a-0000-4000-8000-000000000000'


class BackupApiTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(backup_key_file=self.useFixture(
            fixtures.TempDir()).join('backup.key'))
        self.version = self.make_version(default=True)
        self.redis = self.make_version(datastore='redis', name='7.0',
                                       manager='redis', default=True)
        self.tasks = test_instances.RecordingTasks()
        for module in ('instances', 'backups'):
            self.useFixture(fixtures.MonkeyPatch(
                'trove_clone.api.controllers.v1.%s.tasks' % module,
                lambda: self.tasks))
        self.heartbeats = 0.0

    # --- helpers ---------------------------------------------------------

    def instance(self, datastore: str = 'mysql', status: int = 200,
                 project: str | None = None, **extra):
        body = {'instance': dict(name='db1', flavorRef='1',
                                 volume={'size': 2},
                                 datastore={'type': datastore}, **extra)}
        return self.send('POST', '/instances', body, status=status,
                         project=project)

    def active_instance(self, datastore: str = 'mysql',
                        project: str | None = None) -> str:
        instance_id = self.instance(datastore, project=project).json[
            'instance']['id']
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        self.heartbeats += 1
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, self.heartbeats)
        return instance_id

    def backup(self, instance_id: str, status: int = 202,
               project: str | None = None, **fields):
        body = {'backup': dict(name='b1', instance=instance_id, **fields)}
        return self.send('POST', '/backups', body, status=status,
                         project=project)

    def finish(self, backup_id: str, state: str = 'COMPLETED',
               size: float = 0.5) -> None:
        """What the flow and the guest's report do at the end."""
        row = db_backups.get(self.context, backup_id)
        db_backups.set_state(self.context, backup_id, state, size=size,
                             location='local:///c/%s' % backup_id,
                             checksum='0' * 32)
        db_instances.end_action(self.context, row['instance_id'],
                                statuses.BACKING_UP, statuses.NONE)

    def taken(self, instance_id: str, **fields) -> str:
        backup_id = self.backup(instance_id, **fields).json['backup']['id']
        self.finish(backup_id)
        return backup_id

    def usage(self) -> int:
        return {item['resource']: item['in_use'] for item in
                quotas.show(self.context, self.project)}['backups']

    def instance_status(self, instance_id: str) -> str:
        return self.get('/instances/%s' % instance_id).json['instance'][
            'status']

    # --- create ------------------------------------------------------------

    def test_create_runs_one_backup_at_a_time(self) -> None:
        instance_id = self.active_instance()
        view = self.backup(instance_id, description='first').json['backup']
        self.assertEqual('NEW', view['status'])
        self.assertEqual(instance_id, view['instance_id'])
        self.assertEqual('first', view['description'])
        self.assertIsNone(view['parent_id'])
        self.assertEqual({'type': 'mysql', 'version': '5.7.29',
                          'version_id': self.version['id']},
                         view['datastore'])
        self.assertEqual(self.project, view['project_id'])
        self.assertIn(('create_backup', view['id'], instance_id),
                      self.tasks.calls)
        self.assertEqual('BACKUP', self.instance_status(instance_id))
        self.assertEqual(1, self.usage())
        # A second backup, and any other action, waits for this one.
        response = self.backup(instance_id, status=422)
        self.assertError(response, 422, 'unprocessableEntity',
                         'not currently available')
        self.send('POST', '/instances/%s/action' % instance_id,
                  {'restart': {}}, status=422)
        self.assertEqual(1, self.usage())
        self.finish(view['id'])
        self.assertEqual('ACTIVE', self.instance_status(instance_id))
        self.backup(instance_id)
        self.assertEqual(2, self.usage())

    def test_an_instance_that_is_not_active_is_refused(self) -> None:
        building = self.instance().json['instance']['id']
        self.assertError(self.backup(building, status=422), 422,
                         'unprocessableEntity', building)
        self.assertEqual(0, self.usage())
        self.assertEqual([], db_backups.list_page(self.context, None, 10))

    def test_bad_requests_name_the_field(self) -> None:
        instance_id = self.active_instance()
        for body, field in (
                ({'backup': {'instance': instance_id}}, 'name'),
                ({'backup': {'name': 'b', 'instance': instance_id,
                             'swift_container': '../etc'}},
                 'swift_container'),
                ({'backup': {'name': 'b', 'instance': instance_id,
                             'parent_id': 'nope'}}, 'parent_id'),
                ({'backup': {'name': 'b', 'instance': instance_id,
                             'incremental': 2}}, 'incremental'),
                ({'backup': {'name': 'b'}}, 'instance')):
            response = self.send('POST', '/backups', body, status=400)
            self.assertIn(field, response.json['badRequest']['message'])
        self.assertError(self.backup(UNKNOWN_ID, status=404), 404,
                         'itemNotFound', UNKNOWN_ID)
        other = self.active_instance(project='project-b')
        self.backup(other, status=404)
        self.assertEqual(0, self.usage())
        self.assertEqual('ACTIVE', self.instance_status(instance_id))

    def test_cinder_storage_driver_is_not_built(self) -> None:
        # What Trove's tempest test_cinder_backup sends: 501 with a
        # message, never a 500, and nothing recorded or counted.
        instance_id = self.active_instance()
        response = self.backup(instance_id, storage_driver='cinder',
                               status=501)
        self.assertError(response, 501, 'notImplemented',
                         'storage_driver cinder')
        response = self.backup(instance_id, storage_driver='nfs',
                               status=400)
        self.assertIn('storage_driver',
                      response.json['badRequest']['message'])
        self.assertEqual(0, self.usage())
        self.assertEqual([], db_backups.list_page(self.context, None, 10))
        self.assertEqual('ACTIVE', self.instance_status(instance_id))

    def test_incremental_takes_the_last_completed_backup(self) -> None:
        instance_id = self.active_instance()
        # No completed backup yet: a full one.
        first = self.backup(instance_id, incremental=1).json['backup']
        self.assertIsNone(first['parent_id'])
        self.finish(first['id'])
        failed = self.backup(instance_id).json['backup']['id']
        self.finish(failed, 'FAILED')
        second = self.backup(instance_id, incremental=True).json['backup']
        self.assertEqual(first['id'], second['parent_id'])
        self.assertEqual('incremental', db_backups.get(
            self.context, second['id'])['backup_type'])
        self.finish(second['id'])
        third = self.backup(instance_id, incremental=1).json['backup']
        self.assertEqual(second['id'], third['parent_id'])
        self.finish(third['id'])
        explicit = self.backup(instance_id, parent_id=first['id'])
        self.assertEqual(first['id'], explicit.json['backup']['parent_id'])

    def test_parent_must_be_a_completed_backup_of_the_instance(self) -> None:
        instance_id = self.active_instance()
        other_instance = self.active_instance()
        parent = self.taken(other_instance)
        response = self.backup(instance_id, parent_id=parent, status=400)
        self.assertIn('not of %s' % instance_id,
                      response.json['badRequest']['message'])
        failed = self.backup(instance_id).json['backup']['id']
        self.finish(failed, 'FAILED')
        response = self.backup(instance_id, parent_id=failed, status=400)
        self.assertIn('COMPLETED', response.json['badRequest']['message'])
        self.backup(instance_id, parent_id=UNKNOWN_ID, status=400)
        self.assertEqual('ACTIVE', self.instance_status(instance_id))

    def test_redis_incremental_refused(self) -> None:
        instance_id = self.active_instance('redis')
        full = self.taken(instance_id)
        for fields in ({'incremental': 1}, {'parent_id': full}):
            response = self.backup(instance_id, status=400, **fields)
            self.assertIn('Incremental backups are not supported for the '
                          'redis datastore',
                          response.json['badRequest']['message'])
        self.assertEqual(1, self.usage())
        self.backup(instance_id)

    def test_quota(self) -> None:
        self.conf.config(max_backups_per_tenant=1)
        instance_id = self.active_instance()
        self.taken(instance_id)
        response = self.backup(instance_id, status=413)
        self.assertIn('backups', response.json['overLimit']['message'])
        self.assertEqual('ACTIVE', self.instance_status(instance_id))
        limits = self.get('/limits').json['limits'][0]
        self.assertEqual(1, limits['max_backups'])

    def test_a_cast_that_fails_gives_everything_back(self) -> None:
        instance_id = self.active_instance()
        self.tasks.fail = True
        self.backup(instance_id, status=500)
        self.assertEqual(0, self.usage())
        self.assertEqual('ACTIVE', self.instance_status(instance_id))
        self.assertEqual([], self.get('/backups').json['backups'])

    def test_container_from_request_strategy_or_default(self) -> None:
        instance_id = self.active_instance()

        def container(**fields) -> str:
            backup_id = self.taken(instance_id, **fields)
            return db_backups.get(self.context,
                                  backup_id)['metadata']['container']
        self.assertEqual('database_backups', container())
        self.send('POST', '/backup_strategies', {'backup_strategy': {
            'swift_container': 'project_c'}})
        self.assertEqual('project_c', container())
        created = self.send('POST', '/backup_strategies', {
            'backup_strategy': {'swift_container': 'instance_c',
                                'instance_id': instance_id}}).json
        self.assertEqual({'project_id': self.project,
                          'instance_id': instance_id, 'backend': 'local',
                          'swift_container': 'instance_c'},
                         created['backup_strategy'])
        self.assertEqual('instance_c', container())
        self.assertEqual('asked', container(swift_container='asked'))
        listed = self.get('/backup_strategies').json['backup_strategies']
        self.assertEqual({'project_c', 'instance_c'},
                         {row['swift_container'] for row in listed})
        self.send('DELETE', '/backup_strategies?instance_id=%s'
                  % instance_id)
        self.assertEqual('project_c', container())
        self.get('/backup_strategies?project_id=project-b', status=403)
        self.send('POST', '/backup_strategies', {'backup_strategy': {
            'swift_container': 'x', 'instance_id': UNKNOWN_ID}},
            status=404)

    # --- read ----------------------------------------------------------------

    def test_lists_and_filters(self) -> None:
        mysql = self.active_instance()
        redis = self.active_instance('redis')
        other = self.active_instance(project='project-b')
        ids = [self.taken(mysql), self.taken(mysql), self.taken(redis)]
        self.taken(other, project='project-b')
        listed = [row['id'] for row in self.get('/backups').json['backups']]
        self.assertEqual(list(reversed(ids)), listed)
        self.assertEqual(
            ids[:2][::-1], [row['id'] for row in self.get(
                '/backups?instance_id=%s' % mysql).json['backups']])
        self.assertEqual([ids[2]], [row['id'] for row in self.get(
            '/backups?datastore=redis').json['backups']])
        self.get('/backups?datastore=nosuch', status=404)
        page = self.get('/backups?limit=2').json
        self.assertEqual(2, len(page['backups']))
        self.assertIn('marker=%s' % page['backups'][1]['id'],
                      page['links'][0]['href'])
        rest = self.get('/backups?limit=2&marker=%s'
                        % page['backups'][1]['id']).json
        self.assertEqual([ids[0]], [row['id'] for row in rest['backups']])
        self.get('/backups?all_projects=1', status=403)
        everything = self.get('/backups?all_projects=1', admin=True).json
        self.assertEqual(4, len(everything['backups']))
        on_instance = self.get('/instances/%s/backups' % mysql).json
        self.assertEqual(ids[:2][::-1],
                         [row['id'] for row in on_instance['backups']])
        self.get('/instances/%s/backups' % other, status=404)
        shown = self.get('/backups/%s' % ids[0]).json['backup']
        self.assertEqual('COMPLETED', shown['status'])
        self.assertEqual(0.5, shown['size'])
        self.assertEqual('local:///c/%s' % ids[0], shown['locationRef'])
        self.get('/backups/%s' % ids[0], project='project-b', status=404)

    def test_deleting_an_instance_keeps_its_backups(self) -> None:
        instance_id = self.active_instance()
        backup_id = self.taken(instance_id)
        self.send('DELETE', '/instances/%s' % instance_id)
        db_instances.mark_deleted(self.context, instance_id)
        self.assertEqual(instance_id, self.get(
            '/backups/%s' % backup_id).json['backup']['instance_id'])

    # --- delete ------------------------------------------------------------

    def test_delete_refused_while_it_or_a_child_runs(self) -> None:
        instance_id = self.active_instance()
        full = self.taken(instance_id)
        child = self.backup(instance_id, incremental=1).json['backup']['id']
        response = self.send('DELETE', '/backups/%s' % full, status=422)
        self.assertIn(child, response.json['unprocessableEntity'][
            'message'])
        self.send('DELETE', '/backups/%s' % child, status=422)
        self.finish(child)
        self.send('DELETE', '/backups/%s' % full)
        self.assertEqual(('delete_backup', full), self.tasks.calls[-1])
        self.send('DELETE', '/backups/%s' % UNKNOWN_ID, status=404)
        self.send('DELETE', '/backups/%s' % full, project='project-b',
                  status=404)

    # --- restore -----------------------------------------------------------

    def test_restore_checks(self) -> None:
        instance_id = self.active_instance()
        running = self.backup(instance_id).json['backup']['id']
        response = self.instance(restorePoint={'backupRef': running},
                                 status=409)
        self.assertIn('is not completed', response.json['conflictingRequest'][
            'message'])
        self.finish(running, size=3.5)
        response = self.instance(restorePoint={'backupRef': running},
                                 status=403)
        self.assertIn('Backup size: 3.5', response.json['forbidden'][
            'message'])
        self.instance(restorePoint={'backupRef': UNKNOWN_ID}, status=404)
        redis = self.active_instance('redis')
        redis_backup = self.taken(redis)
        response = self.instance(restorePoint={'backupRef': redis_backup},
                                 status=400)
        self.assertIn('does not match', response.json['badRequest'][
            'message'])
        small = self.taken(instance_id)
        created = self.instance(restorePoint={'backupRef': small}).json
        new_id = created['instance']['id']
        self.assertIn(('create_instance', new_id, {
            'databases': [], 'users': [], 'modules': [],
            'backup_id': small}), self.tasks.calls)

    def test_a_version_with_backups_is_not_deleted(self) -> None:
        instance_id = self.active_instance()
        backup_id = self.taken(instance_id)
        db_instances.mark_deleted(self.context, instance_id)
        path = '/mgmt/datastore-versions/%s' % self.version['id']
        response = self.send('DELETE', path, status=400, admin=True)
        self.assertIn('1 backups were taken with it',
                      response.json['badRequest']['message'])
        self.assertEqual(backup_id, self.get(
            '/backups/%s' % backup_id).json['backup']['id'])


class BackupKeyTest(base.ApiTestCase):

    def test_generated_once_private_and_checked(self) -> None:
        path = self.useFixture(fixtures.TempDir()).join('backup.key')
        self.conf.config(backup_key_file=path)
        self.assertRaises(exception.DeploymentSecretMissing,
                          deployment_secrets.backup_key)
        key = deployment_secrets.backup_key(create=True)
        self.assertEqual(32, len(base64.b64decode(key, validate=True)))
        self.assertEqual(0o600, os.stat(path).st_mode & 0o777)
        self.assertEqual(key, deployment_secrets.backup_key(create=True))
        self.assertIsNone(deployment_secrets.ensure_backup_key())
        self.conf.config(backup_aes_key='c2hvcnQ=')
        self.assertRaises(exception.DeploymentSecretMissing,
                          deployment_secrets.backup_key)
        configured = base64.b64encode(b'k' * 32).decode('ascii')
        self.conf.config(backup_aes_key=configured)
        self.assertEqual(configured, deployment_secrets.backup_key())
