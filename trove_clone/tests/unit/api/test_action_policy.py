"""Authorization of every instance action body, for a member and an
administrator of the owning project.

The table must name every action the request schemas accept: a new
action added to ``api/schemas/instances.py`` fails
``test_the_table_covers_every_action`` until its expected answers are
written here. A refused request must leave the instance as it was and
cast nothing.
"""
import fixtures

from trove_clone.api.schemas import instances as schemas
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

ACTION = '/instances/{id}/action'
INSTANCE = '/instances/{id}'
MGMT_ACTION = '/mgmt/instances/{id}/action'

# (label, method, path, body, member's status, admin's status)
CASES = [
    ('restart', 'POST', ACTION, {'restart': {}}, 202, 202),
    ('resize volume', 'POST', ACTION,
     {'resize': {'volume': {'size': 2}}}, 202, 202),
    ('resize flavor', 'POST', ACTION, {'resize': {'flavorRef': '2'}},
     202, 202),
    ('reset_status', 'POST', ACTION, {'reset_status': {}}, 403, 202),
    ('reset_status force_delete', 'POST', ACTION,
     {'reset_status': {'force_delete': True}}, 403, 202),
    ('reset_status force_delete 1', 'POST', ACTION,
     {'reset_status': {'force_delete': 1}}, 403, 202),
    ('reset_status force_delete false', 'POST', ACTION,
     {'reset_status': {'force_delete': False}}, 403, 202),
    ('promote_to_replica_source', 'POST', ACTION,
     {'promote_to_replica_source': {}}, 400, 400),
    ('eject_replica_source', 'POST', ACTION,
     {'eject_replica_source': {}}, 400, 400),
    # PUT and PATCH of the instance: rename, upgrade, the rest.
    ('rename (PUT)', 'PUT', INSTANCE, {'instance': {'name': 'x'}},
     202, 202),
    ('rename (PATCH)', 'PATCH', INSTANCE, {'instance': {'name': 'x'}},
     202, 202),
    ('upgrade (PUT)', 'PUT', INSTANCE,
     {'instance': {'datastore_version': '5.7.30'}}, 202, 202),
    ('upgrade (PATCH)', 'PATCH', INSTANCE,
     {'instance': {'datastore_version': '5.7.30'}}, 202, 202),
    ('detach without a group (PUT)', 'PUT', INSTANCE,
     {'instance': {'configuration': None}}, 400, 400),
    ('access (PUT)', 'PUT', INSTANCE,
     {'instance': {'access': {'is_public': True}}}, 202, 202),
    ('access (PATCH)', 'PATCH', INSTANCE,
     {'instance': {'access': {'allowed_cidrs': ['10.0.0.0/8']}}}, 202, 202),
    # Detach: not a replica (test_replication covers replicas).
    ('replica_of (PUT)', 'PUT', INSTANCE, {'instance': {'replica_of': 'x'}},
     400, 400),
    ('replica_of (PATCH)', 'PATCH', INSTANCE,
     {'instance': {'replica_of': 'x'}}, 400, 400),
    ('slave_of (PATCH)', 'PATCH', INSTANCE, {'instance': {'slave_of': 'x'}},
     400, 400),
    ('backup_schedule (PATCH)', 'PATCH', INSTANCE,
     {'instance': {'backup_schedule': {'cron': '0 3 * * *', 'keep': 2}}},
     202, 202),
    # The mgmt actions: administrators only.
    ('mgmt stop', 'POST', MGMT_ACTION, {'stop': {}}, 403, 202),
    ('mgmt reboot', 'POST', MGMT_ACTION, {'reboot': {}}, 403, 202),
    ('mgmt reset-task-status', 'POST', MGMT_ACTION,
     {'reset-task-status': {}}, 403, 202),
    ('mgmt migrate', 'POST', MGMT_ACTION, {'migrate': {}}, 403, 501),
    ('mgmt rebuild', 'POST', MGMT_ACTION,
     {'rebuild': {'image_id': base.IMAGE_ID}}, 403, 202),
]


class RecordingGuest:
    """Stands in for a guest's RPC client (mgmt stop)."""

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def stop_db(self, context) -> None:
        self.calls.append(('stop_db',))


class ActionPolicyTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version(default=True)
        self.make_version(name='5.7.30', version_number='5.7.30')
        self.tasks = test_instances.RecordingTasks()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks',
            lambda: self.tasks))
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instance_accounts.guest',
            lambda row, timeout=None: RecordingGuest(self.tasks.calls)))
        self.sent = 0.0
        self.send('PUT', '/mgmt/quotas/%s' % self.project,
                  {'quotas': {'instances': 200, 'ram': 10 ** 6,
                              'volumes': 1000}}, admin=True, status=200)

    def active_instance(self) -> str:
        """A new ACTIVE, HEALTHY instance of the test's project."""
        instance_id = self.send('POST', '/instances', {'instance': {
            'name': 'db1', 'flavorRef': '1', 'volume': {'size': 1},
            'datastore': {'type': 'mysql', 'version': '5.7.29'}}},
            status=200).json['instance']['id']
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        self.sent += 1
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, self.sent)
        self.tasks.calls.clear()
        return instance_id

    def state(self, instance_id: str) -> tuple:
        row = db_instances.get(self.context, instance_id)
        return (row['name'], row['task_id'], row['service_status'],
                row['volume_size'], row['flavor_id'],
                row['datastore_version_id'], row['deleted'])

    def test_the_table_covers_every_action(self) -> None:
        action_names = set(schemas.action['properties'])
        mgmt_names = set(schemas.mgmt_action['properties'])
        update_fields = (set(schemas.update['properties']['instance'][
            'properties']) | set(schemas.edit['properties']['instance'][
                'properties']))
        covered, covered_mgmt, covered_fields = set(), set(), set()
        for _label, _method, path, body, _member, _admin in CASES:
            if path == ACTION:
                covered |= set(body)
            elif path == MGMT_ACTION:
                covered_mgmt |= set(body)
            else:
                covered_fields |= set(body['instance'])
        self.assertEqual(action_names, covered)
        self.assertEqual(mgmt_names, covered_mgmt)
        self.assertEqual(update_fields - {'configuration'},
                         covered_fields - {'configuration'})
        self.assertIn({'reset_status': {'force_delete': True}},
                      [case[3] for case in CASES])

    def test_every_action_as_member_and_admin(self) -> None:
        for label, method, path, body, member, admin in CASES:
            for is_admin, expected in ((False, member), (True, admin)):
                role = 'admin' if is_admin else 'member'
                instance_id = self.active_instance()
                before = self.state(instance_id)
                response = self.send(method, path.format(id=instance_id),
                                     body, admin=is_admin, status='*')
                where = '%s as %s: %s' % (label, role, response.body)
                self.assertEqual(expected, response.status_int, where)
                if expected == 403:
                    self.assertEqual('forbidden', next(iter(response.json)),
                                     where)
                if expected >= 400:
                    self.assertEqual(before, self.state(instance_id), where)
                    self.assertEqual([], self.tasks.calls, where)
                self.send('DELETE', '/instances/%s' % instance_id,
                          admin=True, status='*')

    def test_a_member_cannot_clear_a_running_task(self) -> None:
        instance_id = self.active_instance()
        self.send('POST', ACTION.format(id=instance_id), {'restart': {}})
        for body in ({'reset_status': {}},
                     {'reset_status': {'force_delete': True}}):
            response = self.send('POST', ACTION.format(id=instance_id),
                                 body, status=403)
            self.assertError(response, 403, 'forbidden',
                             'instance:reset_status')
            self.assertEqual(statuses.REBOOTING.code, db_instances.get(
                self.context, instance_id)['task_id'])
        self.send('POST', ACTION.format(id=instance_id),
                  {'reset_status': {'force_delete': True}}, admin=True)
        self.assertEqual(statuses.NONE.code, db_instances.get(
            self.context, instance_id)['task_id'])

    def test_mgmt_routes_refuse_members(self) -> None:
        instance_id = self.active_instance()
        version_id = self.version['id']
        for method, path, body in [
                ('get', '/mgmt/instances', None),
                ('get', '/mgmt/instances/%s' % instance_id, None),
                ('get', '/mgmt/datastore-versions', None),
                ('post', '/mgmt/datastore-versions', {'version': {}}),
                ('get', '/mgmt/datastore-versions/%s' % version_id, None),
                ('patch', '/mgmt/datastore-versions/%s' % version_id,
                 {'active': False}),
                ('delete', '/mgmt/datastore-versions/%s' % version_id, None),
                ('get', '/mgmt/datastores/versions/%s/parameters'
                 % version_id, None),
                ('post', '/mgmt/datastores/versions/%s/parameters'
                 % version_id, {'configuration-parameter': {}}),
                ('get', '/mgmt/datastores/versions/%s/parameters/x'
                 % version_id, None),
                ('delete', '/mgmt/datastores/versions/%s/parameters/x'
                 % version_id, None),
                ('put', '/mgmt/quotas/%s' % self.project,
                 {'quotas': {'instances': 100}})]:
            if method == 'get':
                response = self.get(path, status='*')
            else:
                response = self.send(method, path, body, status='*')
            self.assertError(response, 403, 'forbidden')
        self.assertTrue(self.get('/mgmt/datastore-versions',
                                 admin=True).json['versions'])
