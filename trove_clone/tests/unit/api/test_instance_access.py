"""PUT/PATCH of an instance's access and access at create: validation
(400 naming the field, nothing changed), the task UPDATING, the cast with
the old and new access, 422 for an instance not ready, and the view."""
import fixtures

from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

CREATE = {'instance': {'name': 'db1', 'flavorRef': '1',
                       'volume': {'size': 1},
                       'datastore': {'type': 'mysql',
                                     'version': '5.7.29'}}}


class InstanceAccessApiTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.make_version(default=True)
        self.tasks = test_instances.RecordingTasks()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks',
            lambda: self.tasks))

    def create(self, access: dict | None = None) -> dict:
        body = {'instance': dict(CREATE['instance'])}
        if access is not None:
            body['instance']['access'] = access
        return self.send('POST', '/instances', body,
                         status=200).json['instance']

    def make_active(self, instance_id: str) -> None:
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 1.0)
        self.tasks.calls.clear()

    def put(self, instance_id: str, access, status: int = 202,
            method: str = 'PUT'):
        return self.send(method, '/instances/%s' % instance_id,
                         {'instance': {'access': access}}, status=status)

    def test_update_takes_the_task_and_casts_old_and_new(self) -> None:
        instance = self.create({'is_public': True,
                                'allowed_cidrs': ['10.1.2.3/8']})
        # Kept as networks.
        self.assertEqual({'is_public': True, 'allowed_cidrs': ['10.0.0.0/8']},
                         instance['access'])
        self.make_active(instance['id'])
        self.put(instance['id'], {'allowed_cidrs': [
            '192.168.1.0/24', '2001:db8::1/32', '192.168.1.7/24']},
            method='PATCH')
        self.assertEqual([('update_access', instance['id'],
                           {'is_public': True,
                            'allowed_cidrs': ['10.0.0.0/8']},
                           {'is_public': False, 'allowed_cidrs': [
                               '192.168.1.0/24', '2001:db8::/32']})],
                         self.tasks.calls)
        row = db_instances.get(self.context, instance['id'])
        self.assertEqual(statuses.UPDATING.code, row['task_id'])
        # The record changes when the taskmanager has done it.
        shown = self.get('/instances/%s' % instance['id']).json['instance']
        self.assertEqual(['10.0.0.0/8'], shown['access']['allowed_cidrs'])
        # One action at a time.
        response = self.put(instance['id'], {'is_public': True}, status=422)
        self.assertError(response, 422, 'unprocessableEntity',
                         'not currently available')

    def test_bad_input_names_the_field_and_changes_nothing(self) -> None:
        instance = self.create()
        self.make_active(instance['id'])
        for access, words in (
                ({'allowed_cidrs': ['10.0.0.0/8', '10.0.0.300/24']},
                 'access.allowed_cidrs[1]'),
                ({'allowed_cidrs': ['10.0.0.0/33']},
                 'access.allowed_cidrs[0]'),
                ({'allowed_cidrs': ['']}, 'access.allowed_cidrs[0]'),
                ({'allowed_cidrs': [3]}, 'allowed_cidrs'),
                ({'allowed_cidrs': '10.0.0.0/8'}, 'allowed_cidrs'),
                ({'is_public': 'yes'}, 'is_public'),
                ({'public': True}, 'public')):
            response = self.put(instance['id'], access, status=400)
            self.assertError(response, 400, 'badRequest', words)
            row = db_instances.get(self.context, instance['id'])
            self.assertEqual(statuses.NONE.code, row['task_id'])
            self.assertIsNone(row['access'])
        self.assertEqual([], self.tasks.calls)
        response = self.send('POST', '/instances', {'instance': dict(
            CREATE['instance'], access={'allowed_cidrs': ['nope']})},
            status=400)
        self.assertError(response, 400, 'badRequest',
                         'access.allowed_cidrs[0]')

    def test_not_ready_is_422(self) -> None:
        instance = self.create()
        response = self.put(instance['id'], {'is_public': False},
                            status=422)
        self.assertError(response, 422, 'unprocessableEntity')
        self.assertEqual([], [call for call in self.tasks.calls
                              if call[0] == 'update_access'])

    def test_a_failed_cast_gives_the_task_back(self) -> None:
        instance = self.create()
        self.make_active(instance['id'])
        self.tasks.fail = True
        self.put(instance['id'], {'is_public': False}, status=500)
        row = db_instances.get(self.context, instance['id'])
        self.assertEqual(statuses.NONE.code, row['task_id'])
        self.assertIsNone(row['access'])

    def test_view_without_access_as_trove(self) -> None:
        instance = self.create()
        # No address yet: nothing to say.
        self.assertEqual({}, instance['access'])
        db_instances.update(self.context, instance['id'], {
            'addresses': '[{"address": "127.77.0.2", "type": "private"}]'})
        shown = self.get('/instances/%s' % instance['id']).json['instance']
        self.assertEqual({'is_public': False}, shown['access'])
