"""Module routes as python-troveclient sends them: create, list, show,
update and delete, the instances of a module (counts, list, reapply) and
the modules of an instance; every refusal leaves everything as it was."""
import base64

import fixtures

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import modules as db_modules
from trove_clone.services import modules as module_service
from trove_clone.services import quotas
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

# What the trove CLI sends for a file holding "message=Module.V1\n".
V1 = base64.b64encode(b'message=Module.V1\n').decode('ascii')
V2 = base64.b64encode(b'message=Module.V2\n').decode('ascii')
MD5_V1 = '7f700cc7b99606615f8b51946f6d3228'
MD5_V2 = 'ba7c204979c8de54be6efb70a17d40b9'
UNKNOWN_ID = '4c3f1e0a-0000-4000-8000-000000000000'


class FakeGuest:
    """The module calls of GuestAPI, answered from memory: a module whose
    id is in ``failing`` gets status ERROR."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.payloads: list[dict] = []
        self.failing: set[str] = set()
        self.listed: list[dict] = []

    def module_list(self, context, include_contents: bool = False) -> list:
        self.calls.append(('module_list', include_contents))
        return self.listed

    def module_apply(self, context, modules: list) -> list:
        self.calls.append(('module_apply',
                           [module['id'] for module in modules]))
        self.payloads.extend(modules)
        results = []
        for module in modules:
            failed = module['id'] in self.failing
            results.append({
                'id': module['id'], 'name': module['name'],
                'type': module['type'], 'datastore': module['datastore'],
                'datastore_version': module['datastore_version'],
                'status': 'ERROR' if failed else 'OK',
                'message': 'driver failed' if failed else 'applied',
                'created': '2026-01-01T00:00:00',
                'updated': '2026-01-01T00:00:00'})
        return results

    def module_remove(self, context, module: dict) -> None:
        self.calls.append(('module_remove', module['id']))


class ModuleApiTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(module_key_file=self.useFixture(
            fixtures.TempDir()).join('module.key'))
        self.version = self.make_version(default=True)
        self.redis = self.make_version(datastore='redis', name='7.0',
                                       manager='redis')
        self.tasks = test_instances.RecordingTasks()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks',
            lambda: self.tasks))
        self.guest = FakeGuest()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instance_accounts.guest',
            lambda row, timeout=None: self.guest))
        self.heartbeats = 0.0

    # --- helpers ---------------------------------------------------------

    def create(self, status: int = 200, admin: bool = True,
               project: str | None = None, **fields):
        module = {'name': 'mod1', 'module_type': 'ping', 'contents': V1}
        module.update(fields)
        return self.send('POST', '/modules', {'module': module},
                         status=status, admin=admin, project=project)

    def module_id(self, **fields) -> str:
        return self.create(**fields).json['module']['id']

    def listed(self, query: str = '', admin: bool = False,
               project: str | None = None) -> set:
        return {module['id'] for module in self.get(
            '/modules' + query, admin=admin,
            project=project).json['modules']}

    def everything(self) -> list:
        return self.get('/modules', admin=True).json['modules']

    def instance(self, name: str = 'db1', datastore: str = 'mysql',
                 status: int = 200, project: str | None = None, **extra):
        body = {'instance': dict(name=name, flavorRef='1',
                                 volume={'size': 1},
                                 datastore={'type': datastore}, **extra)}
        return self.send('POST', '/instances', body, status=status,
                         project=project)

    def active_instance(self, **extra) -> str:
        instance_id = self.instance(**extra).json['instance']['id']
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        self.heartbeats += 1
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, self.heartbeats)
        return instance_id

    def counts(self, module_id: str, query: str = '', admin: bool = False,
               project: str | None = None) -> dict:
        """count_only rows by md5."""
        rows = self.get('/modules/%s/instances?count_only=True%s'
                        % (module_id, query), admin=admin,
                        project=project).json['instances']
        return {row['module_md5']: row for row in rows}

    def instance_count(self) -> int:
        return len(db_api.instance_list(self.context, None, 100))

    def usage(self) -> dict:
        return {item['resource']: item['in_use'] for item in
                quotas.show(self.context, self.project)}

    # --- create, show, list ----------------------------------------------

    def test_admin_create_is_stored_encrypted(self) -> None:
        module = self.create(module_type='PING',
                             description='ping it').json['module']
        self.assertEqual(MD5_V1, module['md5'])
        self.assertTrue(module['is_admin'])
        self.assertEqual(('all', 'all'), (module['datastore'],
                                          module['datastore_version']))
        self.assertIsNone(module['datastore_id'])
        self.assertEqual(self.project, module['tenant'])
        self.assertEqual(self.project, module['tenant_id'])
        self.assertEqual(0, module['instance_count'])
        self.assertEqual(5, module['apply_order'])
        self.assertTrue(module['visible'])
        self.assertEqual('ping', module['type'])
        self.assertEqual((False, False, False),
                         (module['auto_apply'], module['live_update'],
                          module['priority_apply']))
        self.assertNotIn('contents', module)
        row = db_modules.get(self.context, module['id'])
        self.assertNotEqual(V1, row['contents'])
        self.assertNotIn(V1, row['contents'])
        self.assertEqual(V1, module_service.decrypt(row['contents']))
        shown = self.get('/modules/%s' % module['id']).json['module']
        self.assertEqual(module, shown)

    def test_member_create_and_options(self) -> None:
        module = self.create(admin=False, live_update=1, apply_order=0,
                             datastore={'type': 'mysql',
                                        'version': '5.7.29'}).json['module']
        self.assertFalse(module['is_admin'])
        self.assertTrue(module['live_update'])
        self.assertEqual(0, module['apply_order'])
        self.assertEqual(('mysql', '5.7.29'), (module['datastore'],
                                               module['datastore_version']))
        self.assertEqual((self.version['datastore_id'], self.version['id']),
                         (module['datastore_id'],
                          module['datastore_version_id']))
        shared = self.create(name='shared', all_tenants=1, auto_apply=1,
                             priority_apply=1).json['module']
        self.assertEqual(('all', None), (shared['tenant'],
                                         shared['tenant_id']))
        self.assertTrue(shared['auto_apply'] and shared['priority_apply'])
        # full_access: an administrator's module members may change.
        open_module = self.create(name='open', full_access=1).json['module']
        self.assertFalse(open_module['is_admin'])
        self.send('PUT', '/modules/%s' % open_module['id'],
                  {'module': {'description': 'by a member'}}, status=200)

    def test_list_for_admins_and_members(self) -> None:
        own = self.module_id(name='own')
        shared = self.module_id(name='shared', all_tenants=1)
        hidden = self.module_id(name='hidden', visible=0)
        other = self.module_id(name='other', project='project-b')
        mine = self.module_id(name='mine', admin=False)
        on_mysql = self.module_id(name='on-mysql',
                                  datastore={'type': 'mysql'})
        on_redis = self.module_id(name='on-redis',
                                  datastore={'type': 'redis'})
        self.assertEqual({own, shared, hidden, other, mine, on_mysql,
                          on_redis}, self.listed(admin=True))
        self.assertEqual({own, shared, mine, on_mysql, on_redis},
                         self.listed())
        self.assertEqual({shared, other}, self.listed(project='project-b'))
        # The trove CLI finds a module by name through the list.
        names = {module['name']: module for module in self.get(
            '/modules').json['modules']}
        self.assertEqual(mine, names['mine']['id'])
        self.assertEqual(('redis', 'all'),
                         (names['on-redis']['datastore'],
                          names['on-redis']['datastore_version']))
        self.assertEqual({own, shared, mine}, self.listed('?datastore=all'))
        self.assertEqual({own, shared, hidden, other, mine},
                         self.listed('?datastore=all', admin=True))
        # A datastore's name keeps the modules of exactly that
        # datastore, as in Trove.
        self.assertEqual({on_mysql}, self.listed('?datastore=mysql'))
        self.assertEqual({on_redis}, self.listed('?datastore=redis'))
        self.assertError(self.get('/modules?datastore=nosuch', status=404),
                         404, 'itemNotFound', 'nosuch')

    def test_members_cannot_see_other_or_hidden_modules(self) -> None:
        other = self.module_id(project='project-b')
        hidden = self.module_id(name='hidden', visible=0)
        for module_id in (other, hidden):
            path = '/modules/%s' % module_id
            self.assertError(self.get(path, status=404), 404,
                             'itemNotFound', module_id)
            self.assertError(self.get(path + '/instances', status=404),
                             404, 'itemNotFound', module_id)
            self.assertError(self.send('PUT', path, {'module': {
                'name': 'x'}}, status=404), 404, 'itemNotFound')
            self.assertError(self.send('DELETE', path, status=404), 404,
                             'itemNotFound')
            self.assertError(self.instance(modules=[{'id': module_id}],
                                           status=404), 404,
                             'itemNotFound', module_id)
        self.assertEqual(200, self.get('/modules/%s' % hidden,
                                       admin=True).status_int)
        self.assertEqual(['mod1', 'hidden'],
                         [module['name'] for module in self.everything()])
        self.assertEqual(0, self.instance_count())

    # --- refusals ----------------------------------------------------------

    def test_bad_input_records_nothing(self) -> None:
        self.create(name='taken')
        before = self.everything()
        self.conf.config(module_contents_max_size=64)
        too_big = base64.b64encode(b'x' * 60).decode('ascii')
        cases = [
            (404, 'itemNotFound', True, {'module_type': 'nosuch'},
             'nosuch'),
            (400, 'badRequest', True, {'name': 'taken'}, 'taken'),
            (400, 'badRequest', True, {'contents': too_big},
             'module_contents_max_size'),
            (400, 'badRequest', True, {'contents': ''}, 'contents'),
            (403, 'forbidden', False, {'auto_apply': 1}, 'auto_apply'),
            (403, 'forbidden', False, {'all_tenants': 1}, 'all_tenants'),
            (403, 'forbidden', False, {'visible': 0}, 'visible'),
            (403, 'forbidden', False, {'priority_apply': 1},
             'priority_apply'),
            (403, 'forbidden', False, {'full_access': 1}, 'full_access'),
            (403, 'forbidden', False, {'full_access': 0}, 'full_access'),
            (400, 'badRequest', True, {'full_access': 1, 'auto_apply': 1},
             'full_access'),
            (400, 'badRequest', True, {'apply_order': 12}, 'apply_order'),
            (404, 'itemNotFound', True, {'datastore': {'type': 'nosuch'}},
             'nosuch'),
            (404, 'itemNotFound', True, {'datastore': {
                'type': 'mysql', 'version': '9.9'}}, '9.9'),
        ]
        for code, error, admin, fields, text in cases:
            fields.setdefault('name', 'fresh')
            response = self.create(status=code, admin=admin, **fields)
            self.assertError(response, code, error, text)
        self.assertEqual(before, self.everything())
        self.assertEqual([], self.tasks.calls)
        # The same name is fine for another type or datastore.
        self.create(name='taken', module_type='sql')
        self.create(name='taken', datastore={'type': 'mysql'})
        self.assertEqual(3, len(self.everything()))

    # --- update and delete --------------------------------------------------

    def test_update_follows_the_contents(self) -> None:
        module_id = self.module_id()
        path = '/modules/%s' % module_id
        # The legacy client sends the type as "type" when updating.
        updated = self.send('PUT', path, {'module': {
            'contents': V2, 'type': 'sql', 'description': 'second'}},
            status=200, admin=True).json['module']
        self.assertEqual(MD5_V2, updated['md5'])
        self.assertEqual('sql', updated['type'])
        shown = self.get(path).json['module']
        self.assertEqual((MD5_V2, 'sql', 'second'),
                         (shown['md5'], shown['type'],
                          shown['description']))
        self.assertEqual(V2, module_service.decrypt(db_modules.get(
            self.context, module_id)['contents']))
        self.assertError(self.send('PUT', path, {'module': {
            'type': 'nosuch', 'contents': V1}}, status=404, admin=True),
            404, 'itemNotFound', 'nosuch')
        self.module_id(name='other', module_type='sql')
        self.assertError(self.send('PUT', path, {'module': {
            'name': 'other', 'contents': V1}}, status=400, admin=True),
            400, 'badRequest', 'other')
        self.assertEqual(('mod1', MD5_V2), (
            self.get(path).json['module']['name'],
            self.get(path).json['module']['md5']))
        self.send('PUT', path, {'module': {'datastore': {
            'type': 'redis'}}}, status=200, admin=True)
        self.assertEqual('redis', self.get(path).json['module'][
            'datastore'])
        # A version alone keeps the module's datastore.
        self.send('PUT', path, {'module': {'datastore': {
            'version': '7.0'}}}, status=200, admin=True)
        shown = self.get(path).json['module']
        self.assertEqual(('redis', '7.0', self.redis['id']),
                         (shown['datastore'], shown['datastore_version'],
                          shown['datastore_version_id']))
        self.send('PUT', path, {'module': {'all_datastore_versions': 1}},
                  status=200, admin=True)
        self.assertEqual(('redis', 'all'), (
            self.get(path).json['module']['datastore'],
            self.get(path).json['module']['datastore_version']))
        self.send('PUT', path, {'module': {'all_datastores': 1}},
                  status=200, admin=True)
        self.assertEqual('all', self.get(path).json['module']['datastore'])
        self.assertError(self.send('PUT', path, {'module': {'datastore': {
            'version': '7.0'}}}, status=400, admin=True), 400,
            'badRequest', 'datastore.type')
        self.assertEqual(MD5_V2, self.get(path).json['module']['md5'])

    def test_member_cannot_change_an_admin_module(self) -> None:
        module_id = self.module_id()
        path = '/modules/%s' % module_id
        before = self.get(path).json['module']
        self.assertError(self.send('PUT', path, {'module': {
            'contents': V2}}, status=403), 403, 'forbidden',
            'administrator')
        self.assertError(self.send('DELETE', path, status=403), 403,
                         'forbidden', 'administrator')
        self.assertEqual(before, self.get(path).json['module'])
        own = self.module_id(name='own', admin=False)
        own_path = '/modules/%s' % own
        self.assertError(self.send('PUT', own_path, {'module': {
            'auto_apply': 1}}, status=403), 403, 'forbidden', 'auto_apply')
        self.assertFalse(self.get(own_path).json['module']['auto_apply'])
        self.assertEqual(MD5_V2, self.send('PUT', own_path, {'module': {
            'contents': V2}}, status=200).json['module']['md5'])

    def test_full_access_only_without_admin_options(self) -> None:
        module_id = self.module_id(all_tenants=1)
        path = '/modules/%s' % module_id
        before = self.get(path).json['module']
        # Opening an all-tenants module to every member is refused.
        self.assertError(self.send('PUT', path, {'module': {
            'full_access': 1}}, status=400, admin=True), 400, 'badRequest',
            'all_tenants')
        self.assertEqual(before, self.get(path).json['module'])
        self.assertError(self.send('PUT', path, {'module': {
            'contents': V2}}, status=403, project='project-b'), 403,
            'forbidden', 'created by an administrator')
        # Dropping the option in the same request is fine.
        updated = self.send('PUT', path, {'module': {
            'full_access': 1, 'all_tenants': 0}}, status=200,
            admin=True).json['module']
        self.assertEqual((False, self.project),
                         (updated['is_admin'], updated['tenant']))
        self.send('PUT', path, {'module': {'description': 'member'}},
                  status=200)
        # An administrator changing an ordinary field keeps it open.
        self.send('PUT', path, {'module': {'visible': 1,
                                           'description': 'admin'}},
                  status=200, admin=True)
        self.assertFalse(self.get(path).json['module']['is_admin'])
        # An administrator's option makes it an administrator's module.
        self.send('PUT', path, {'module': {'priority_apply': 1}},
                  status=200, admin=True)
        self.assertTrue(self.get(path).json['module']['is_admin'])
        self.assertError(self.send('PUT', path, {'module': {
            'description': 'member again'}}, status=403), 403, 'forbidden')

    def test_an_applied_module_cannot_change(self) -> None:
        module_id = self.module_id()
        instance_id = self.active_instance(modules=[{'id': module_id}])
        path = '/modules/%s' % module_id
        before = self.get(path, admin=True).json['module']
        self.assertEqual(1, before['instance_count'])
        for body in ({'contents': V2}, {'name': 'renamed'},
                     {'live_update': 1}):
            self.assertError(self.send('PUT', path, {'module': body},
                                       status=403, admin=True),
                             403, 'forbidden', 'live_update')
        self.assertError(self.send('DELETE', path, status=403, admin=True),
                         403, 'forbidden', 'live_update')
        self.assertEqual(before, self.get(path, admin=True).json['module'])
        self.assertEqual(V1, module_service.decrypt(db_modules.get(
            self.context, module_id)['contents']))
        # Once removed from its instance it may change again.
        self.send('DELETE', '/instances/%s/modules/%s'
                  % (instance_id, module_id), status=200)
        self.assertEqual(MD5_V2, self.send('PUT', path, {'module': {
            'contents': V2}}, status=200, admin=True).json['module']['md5'])

    def test_a_live_update_module_changes_while_applied(self) -> None:
        module_id = self.module_id(live_update=1)
        self.active_instance(modules=[{'id': module_id}])
        path = '/modules/%s' % module_id
        self.send('PUT', path, {'module': {'contents': V2}}, status=200,
                  admin=True)
        self.assertEqual(0, self.get(path).json['module']['instance_count'])
        response = self.send('DELETE', path, status=200, admin=True)
        self.assertEqual(b'', response.body)

    def test_delete(self) -> None:
        module_id = self.module_id(admin=False)
        path = '/modules/%s' % module_id
        response = self.send('DELETE', path, status=200)
        self.assertEqual(b'', response.body)
        self.assertError(self.get(path, status=404), 404, 'itemNotFound',
                         module_id)
        self.assertError(self.send('DELETE', path, status=404), 404,
                         'itemNotFound', module_id)
        self.assertEqual(set(), self.listed(admin=True))
        self.assertRaises(exception.ModuleNotFound, db_modules.get,
                          self.context, module_id)
        # The name is free again.
        self.create(admin=False)

    # --- instances with modules ---------------------------------------------

    def test_instance_create_records_its_modules(self) -> None:
        requested = self.module_id(name='requested')
        auto = self.module_id(name='auto', auto_apply=1,
                              datastore={'type': 'mysql'})
        auto_redis = self.module_id(name='auto-redis', auto_apply=1,
                                    datastore={'type': 'redis'})
        auto_other = self.module_id(name='auto-b', auto_apply=1,
                                    project='project-b')
        instance_id = self.instance(modules=[{'id': requested}]).json[
            'instance']['id']
        name, cast_id, request = self.tasks.calls[-1]
        self.assertEqual(('create_instance', instance_id), (name, cast_id))
        self.assertEqual({requested, auto}, set(request['modules']))
        for module_id in (requested, auto):
            counts = self.counts(module_id)
            self.assertEqual([MD5_V1], list(counts))
            row = counts[MD5_V1]
            self.assertEqual((module_id, 1, True),
                             (row['module_id'], row['instance_count'],
                              row['current']))
            self.assertTrue(row['min_updated_date'])
            self.assertLessEqual(row['min_updated_date'],
                                 row['max_updated_date'])
            self.assertEqual(1, self.get('/modules/%s' % module_id).json[
                'module']['instance_count'])
        self.assertEqual('requested', self.counts(requested)[MD5_V1][
            'module_name'])
        self.assertEqual({}, self.counts(auto_redis))
        self.assertEqual({}, self.counts(auto_other, admin=True))

    def test_a_module_for_another_datastore_creates_nothing(self) -> None:
        on_redis = self.module_id(name='on-redis',
                                  datastore={'type': 'redis'})
        old_version = self.make_version(name='5.6', version_number='5.6.1')
        on_old = self.module_id(name='on-5.6', datastore={
            'type': 'mysql', 'version': old_version['name']})
        usage = self.usage()
        for module_id, text in ((on_redis, 'another datastore than mysql: '
                                 'it applies to redis instances only'),
                                (on_old, 'applies to mysql 5.6 instances '
                                 'only')):
            self.assertError(self.instance(modules=[{'id': module_id}],
                                           status=400),
                             400, 'badRequest', text)
            self.assertEqual({}, self.counts(module_id))
        self.assertError(self.instance(modules=[{'id': UNKNOWN_ID}],
                                       status=404), 404, 'itemNotFound',
                         UNKNOWN_ID)
        self.assertEqual(0, self.instance_count())
        self.assertEqual(usage, self.usage())
        self.assertEqual([], self.tasks.calls)

    def test_counts_follow_updates_and_clusters(self) -> None:
        module_id = self.module_id(live_update=1)
        first = self.active_instance(modules=[{'id': module_id}])
        second = self.active_instance(name='db2',
                                      modules=[{'id': module_id}])
        self.send('PUT', '/modules/%s' % module_id,
                  {'module': {'contents': V2}}, status=200, admin=True)
        counts = self.counts(module_id)
        self.assertEqual([MD5_V1], list(counts))
        self.assertEqual((2, False), (counts[MD5_V1]['instance_count'],
                                      counts[MD5_V1]['current']))
        # The first instance gets the new contents.
        self.send('POST', '/instances/%s/modules' % first,
                  {'modules': [{'id': module_id}]}, status=200)
        counts = self.counts(module_id)
        self.assertEqual({MD5_V1: (1, False), MD5_V2: (1, True)},
                         {md5: (row['instance_count'], row['current'])
                          for md5, row in counts.items()})
        db_instances.update(self.context, second, {'cluster_id': UNKNOWN_ID})
        self.assertEqual([MD5_V2], list(self.counts(module_id)))
        self.assertEqual({MD5_V1, MD5_V2}, set(self.counts(
            module_id, '&include_clustered=True')))
        path = '/modules/%s/instances' % module_id
        self.assertEqual([first], [item['id'] for item in self.get(
            path).json['instances']])
        self.assertEqual(sorted([first, second]), sorted(
            item['id'] for item in self.get(
                path + '?include_clustered=True').json['instances']))

    def test_instances_of_a_module(self) -> None:
        module_id = self.module_id(all_tenants=1)
        instance_id = self.active_instance(modules=[{'id': module_id}])
        self.active_instance(name='without')
        path = '/modules/%s/instances' % module_id
        listed = self.get(path).json['instances']
        self.assertEqual(1, len(listed))
        item = listed[0]
        region = self.get('/instances/%s' % instance_id).json['instance'][
            'region']
        self.assertEqual(
            (instance_id, 'db1', 'mysql', '5.7.29', 'ACTIVE', '1', 1,
             region),
            (item['id'], item['name'], item['datastore']['type'],
             item['datastore']['version'], item['status'],
             item['flavor']['id'], item['volume']['size'], item['region']))
        self.assertNotIn('tenant_id', item)
        as_admin = self.get(path, admin=True).json['instances'][0]
        self.assertEqual(self.project, as_admin['tenant_id'])
        # Another project sees the shared module but not our instances.
        other = self.active_instance(name='theirs', project='project-b',
                                     modules=[{'id': module_id}])
        self.assertEqual([other], [item['id'] for item in self.get(
            path, project='project-b').json['instances']])
        self.assertEqual(1, self.counts(module_id, project='project-b')[
            MD5_V1]['instance_count'])
        self.assertEqual(2, self.counts(module_id, admin=True)[MD5_V1][
            'instance_count'])
        page = self.get(path + '?limit=1', admin=True).json
        self.assertEqual(1, len(page['instances']))
        self.assertIn('marker=%s' % page['instances'][0]['id'],
                      page['links'][0]['href'])

    def test_reapply(self) -> None:
        module_id = self.module_id(live_update=1)
        self.active_instance(modules=[{'id': module_id}])
        path = '/modules/%s/instances' % module_id
        # Trove: an md5 no instance has is accepted (202) and the
        # reapply finds nothing to do.
        response = self.send('PUT', path, {'reapply': {'md5': 'f' * 32}},
                             status=202, admin=True)
        self.assertEqual(b'', response.body)
        name, cast_module, arguments = self.tasks.calls[-1]
        self.assertEqual(('reapply_module', module_id, 'f' * 32),
                         (name, cast_module, arguments['md5']))
        self.send('PUT', path, {'reapply': {
            'md5': MD5_V1, 'include_clustered': 1, 'batch_size': 3,
            'batch_delay': 7, 'force': 1}}, status=202, admin=True)
        self.assertEqual(('reapply_module', module_id, {
            'md5': MD5_V1, 'include_clustered': True, 'batch_size': 3,
            'batch_delay': 7, 'force': True}), self.tasks.calls[-1])
        self.conf.config(module_reapply_max_batch_size=10,
                         module_reapply_min_batch_delay=5)
        self.send('PUT', path, {'reapply': {}}, status=202)
        self.assertEqual(('reapply_module', module_id, {
            'md5': None, 'include_clustered': False, 'batch_size': 10,
            'batch_delay': 5, 'force': False}), self.tasks.calls[-1])
        calls = len(self.tasks.calls)
        self.assertError(self.send('PUT', path, {'reapply': {
            'batch_size': 11}}, status=400), 400, 'badRequest',
            'batch_size')
        self.assertError(self.send('PUT', path, {'reapply': {
            'batch_delay': 4}}, status=400), 400, 'badRequest',
            'batch_delay')
        self.assertEqual(calls, len(self.tasks.calls))
        # An administrator may go past the members' limits.
        self.send('PUT', path, {'reapply': {'batch_size': 100,
                                            'batch_delay': 0}},
                  status=202, admin=True)
        self.assertEqual((100, 0), (self.tasks.calls[-1][2]['batch_size'],
                                    self.tasks.calls[-1][2]['batch_delay']))

    # --- the modules of an instance -----------------------------------------

    def test_apply_list_and_remove_on_an_instance(self) -> None:
        module_id = self.module_id(live_update=1)
        failing = self.module_id(name='failing')
        instance_id = self.active_instance()
        path = '/instances/%s/modules' % instance_id
        self.assertEqual([], self.get(path).json['modules'])
        self.guest.failing = {failing}
        results = self.send('POST', path, {'modules': [
            {'id': module_id}, {'id': failing}]}, status=200).json[
            'modules']
        self.assertEqual({module_id: 'OK', failing: 'ERROR'},
                         {result['id']: result['status']
                          for result in results})
        payload = self.guest.payloads[0]
        self.assertEqual((V1, MD5_V1, 'ping', 'all'),
                         (payload['contents'], payload['md5'],
                          payload['type'], payload['datastore']))
        listed = self.get(path).json['modules']
        self.assertEqual([(module_id, MD5_V1)],
                         [(item['id'], item['md5']) for item in listed])
        self.assertEqual(('mod1', 'ping', 'all'),
                         (listed[0]['name'], listed[0]['type'],
                          listed[0]['datastore']))
        self.assertEqual({}, self.counts(failing))
        # The control database keeps the md5 the instance got.
        self.send('PUT', '/modules/%s' % module_id,
                  {'module': {'contents': V2}}, status=200, admin=True)
        self.assertEqual([MD5_V1], [item['md5'] for item in self.get(
            path).json['modules']])
        self.guest.listed = [{'id': module_id, 'name': 'mod1',
                              'status': 'OK', 'md5': MD5_V1}]
        self.assertEqual(self.guest.listed,
                         self.get(path + '?from_guest=True').json['modules'])
        self.assertEqual(('module_list', False), self.guest.calls[-1])
        self.get(path + '?from_guest=True&include_contents=True')
        self.assertEqual(('module_list', True), self.guest.calls[-1])
        response = self.send('DELETE', '%s/%s' % (path, module_id),
                             status=200)
        self.assertEqual(b'', response.body)
        self.assertEqual(('module_remove', module_id), self.guest.calls[-1])
        self.assertEqual([], self.get(path).json['modules'])
        self.assertEqual({}, self.counts(module_id))

    def test_instance_module_refusals(self) -> None:
        on_redis = self.module_id(name='on-redis',
                                  datastore={'type': 'redis'})
        module_id = self.module_id()
        instance_id = self.active_instance()
        path = '/instances/%s/modules' % instance_id
        self.assertError(self.send('POST', path, {'modules': [
            {'id': on_redis}]}, status=400), 400, 'badRequest',
            'another datastore')
        self.assertError(self.send('POST', path, {'modules': [
            {'id': UNKNOWN_ID}]}, status=404), 404, 'itemNotFound',
            UNKNOWN_ID)
        building = self.instance(name='building').json['instance']['id']
        building_path = '/instances/%s/modules' % building
        self.assertError(self.send('POST', building_path, {'modules': [
            {'id': module_id}]}, status=422), 422, 'unprocessableEntity',
            'BUILD')
        self.assertError(self.get(building_path + '?from_guest=True',
                                  status=422), 422, 'unprocessableEntity')
        self.assertError(self.send('DELETE', '%s/%s' % (
            building_path, module_id), status=422), 422,
            'unprocessableEntity')
        self.assertEqual([], self.get(building_path).json['modules'])
        self.assertEqual([], self.guest.calls)
        self.assertEqual({}, self.counts(on_redis))
        self.assertEqual({}, self.counts(module_id))
        self.assertError(self.get(path, project='project-b', status=404),
                         404, 'itemNotFound', instance_id)

    # --- admin-only module types (issue 12) -------------------------------

    def assertAdminOnly(self, response, action: str) -> None:
        self.assertError(response, 403, 'forbidden',
                         "Module type 'sql' may only be %s by an "
                         'administrator (admin_only_module_types)' % action)

    def admin_sql_module(self, **fields) -> str:
        """A sql module of project-a that members could otherwise change
        and apply (full_access)."""
        fields.setdefault('name', 'sql1')
        return self.module_id(module_type='sql', full_access=1, **fields)

    def test_member_cannot_create_an_admin_only_type(self) -> None:
        for module_type in ('sql', 'SQL', ' sql '):
            self.assertAdminOnly(self.create(
                status=403, admin=False, module_type=module_type),
                'created')
        self.assertEqual([], self.everything())
        # ping stays open to members; an administrator may create sql.
        self.create(admin=False, name='ping1')
        self.create(name='sql1', module_type='sql')
        self.assertEqual(['ping1', 'sql1'],
                         [module['name'] for module in self.everything()])
        # The list is configuration: emptied, members may create sql.
        self.conf.config(admin_only_module_types=[])
        self.create(admin=False, name='sql2', module_type='sql')

    def test_member_cannot_update_an_admin_only_type(self) -> None:
        sql_id = self.admin_sql_module()
        ping_id = self.module_id(name='ping1', admin=False)
        before = self.everything()
        self.assertAdminOnly(self.send('PUT', '/modules/%s' % sql_id, {
            'module': {'description': 'by a member'}}, status=403),
            'updated')
        self.assertAdminOnly(self.send('PUT', '/modules/%s' % ping_id, {
            'module': {'type': 'sql', 'contents': V2}}, status=403),
            'updated')
        self.assertEqual(before, self.everything())
        self.send('PUT', '/modules/%s' % sql_id, {'module': {
            'description': 'by an admin'}}, status=200, admin=True)
        self.send('PUT', '/modules/%s' % ping_id, {'module': {
            'type': 'sql'}}, status=200, admin=True)
        self.assertEqual({'sql'}, {module['type']
                                   for module in self.everything()})

    def test_member_cannot_apply_an_admin_only_type(self) -> None:
        sql_id = self.admin_sql_module()
        instance_id = self.active_instance()
        path = '/instances/%s/modules' % instance_id
        self.assertAdminOnly(self.send('POST', path, {'modules': [
            {'id': sql_id}]}, status=403), 'applied')
        self.assertEqual([], self.guest.calls)
        self.assertEqual([], self.get(path).json['modules'])
        # Nor with a new instance.
        count = self.instance_count()
        self.assertAdminOnly(self.instance(
            name='db2', modules=[{'id': sql_id}], status=403), 'applied')
        self.assertEqual(count, self.instance_count())
        results = self.send('POST', path, {'modules': [{'id': sql_id}]},
                            status=200, admin=True).json['modules']
        self.assertEqual([(sql_id, 'OK')], [(result['id'], result['status'])
                                            for result in results])
        self.assertEqual(('module_apply', [sql_id]), self.guest.calls[-1])

    def test_member_cannot_reapply_an_admin_only_type(self) -> None:
        sql_id = self.admin_sql_module(live_update=1)
        path = '/modules/%s/instances' % sql_id
        self.assertAdminOnly(self.send('PUT', path, {'reapply': {}},
                                       status=403), 'reapplied')
        self.assertEqual([], [call for call in self.tasks.calls
                              if call[0] == 'reapply_module'])
        self.send('PUT', path, {'reapply': {}}, status=202, admin=True)
        self.assertEqual(('reapply_module', sql_id),
                         self.tasks.calls[-1][:2])

    # --- uniqueness, quota, pages (issue 12) -------------------------------

    def test_the_database_keeps_trove_identity_unique(self) -> None:
        first = self.module_id(name='same', admin=False)
        self.assertError(self.create(status=400, admin=False, name='same'),
                         400, 'badRequest', "'same' of type 'ping'")
        # Trove's identity: tenant, name, type, datastore and version, with
        # "all" (NULL) compared as a value.
        self.create(admin=False, name='same', datastore={'type': 'mysql'})
        self.create(name='same', all_tenants=1)
        self.create(status=400, name='same', all_tenants=1)
        self.create(admin=False, name='same', project='project-b')
        # The index decides, not a read before the insert.
        values = db_modules.get(self.context, first)
        values = {key: values[key] for key in (
            'name', 'type', 'contents', 'md5', 'tenant_id', 'datastore_id',
            'datastore_version_id', 'auto_apply', 'visible', 'live_update',
            'priority_apply', 'apply_order', 'is_admin')}
        self.assertRaises(exception.ModuleAlreadyExists, db_modules.create,
                          self.context, values)
        other = self.module_id(name='other', admin=False)
        self.assertError(self.send('PUT', '/modules/%s' % other, {
            'module': {'name': 'same'}}, status=400), 400, 'badRequest',
            'same')
        # A deleted module frees its name.
        self.send('DELETE', '/modules/%s' % first, status=200)
        self.create(admin=False, name='same')

    def modules_in_use(self) -> int:
        return db_api.quota_usage_get_all(self.context, self.project)[
            'modules']['in_use']

    def test_modules_quota(self) -> None:
        self.conf.config(max_modules_per_tenant=2)
        self.module_id(name='one', admin=False)
        two = self.module_id(name='two', admin=False)
        self.assertError(self.create(status=413, admin=False, name='three'),
                         413, 'overLimit', 'modules')
        self.assertEqual(['one', 'two'],
                         [module['name'] for module in self.everything()])
        self.assertEqual(2, self.modules_in_use())
        # Modules for all tenants are not a tenant's.
        self.create(name='shared', all_tenants=1)
        self.send('DELETE', '/modules/%s' % two, status=200)
        self.assertEqual(1, self.modules_in_use())
        three = self.module_id(admin=False, name='three')
        # A module moved to all tenants leaves the tenant's count, and
        # coming back counts again, within the limit.
        self.send('PUT', '/modules/%s' % three, {'module': {
            'all_tenants': 1}}, status=200, admin=True)
        self.assertEqual(1, self.modules_in_use())
        self.create(admin=False, name='four')
        self.assertError(self.send('PUT', '/modules/%s' % three, {
            'module': {'all_tenants': 0}}, status=413, admin=True), 413,
            'overLimit', 'modules')
        self.assertEqual(2, self.modules_in_use())
        self.assertIsNone(db_modules.get(self.context, three)['tenant_id'])
        # Rows made before quotas counted modules are counted once the
        # tenant's use is first recorded.
        self.create(admin=False, name='b1', project='project-b')
        db_api.quota_set(self.context, 'project-c', {'modules': 1})
        self.create(admin=False, name='c1', project='project-c')
        self.create(admin=False, name='c2', project='project-c',
                    status=413)
        limits = self.get('/limits').json['limits'][0]
        self.assertEqual(2, limits['max_modules'])

    def test_list_pages_without_contents(self) -> None:
        self.conf.config(modules_page_size=2)
        ids = [self.module_id(name='m%d' % number, admin=False)
               for number in range(3)]
        self.module_id(name='other', project='project-b')
        first = self.get('/modules').json
        self.assertEqual(ids[:2], [module['id']
                                   for module in first['modules']])
        self.assertEqual(['next'], [link['rel'] for link in first['links']])
        self.assertIn('marker=%s' % ids[1], first['links'][0]['href'])
        rest = self.get('/modules?marker=%s' % ids[1]).json
        self.assertEqual(([ids[2]], []), ([module['id'] for module in
                                           rest['modules']], rest['links']))
        one = self.get('/modules?limit=1').json
        self.assertEqual([ids[0]], [module['id']
                                    for module in one['modules']])
        self.assertError(self.get('/modules?marker=%s' % UNKNOWN_ID,
                                  status=404), 404, 'itemNotFound')
        # Filtered by tenant in the query, contents never loaded.
        rows = db_modules.list_page(self.context, self.project, 10)
        self.assertEqual(ids, [row['id'] for row in rows])
        self.assertNotIn('contents', rows[0])
