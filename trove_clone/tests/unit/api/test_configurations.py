"""Configuration group routes: validation against the loaded rules, the
views, attach and detach, and every bad input changing nothing."""
import time

import fixtures

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.services import config_parameters
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

RULES = [
    {'name': 'max_connections', 'restart_required': False,
     'type': 'integer', 'min': 1, 'max': 100000},
    {'name': 'innodb_log_buffer_size', 'restart_required': True,
     'type': 'integer', 'min': 262144, 'max': 4294967295},
    {'name': 'autocommit', 'restart_required': False, 'type': 'boolean'},
    {'name': 'sql_mode', 'restart_required': False, 'type': 'string'},
    {'name': 'long_query_time', 'restart_required': False,
     'type': 'float', 'min': 0, 'max': 3600},
]


class RecordingGuests:
    """Stands in for the guests' RPC clients (api.hooks.guest_client):
    update_overrides records ``(instance id, overrides)`` and answers the
    names whose value changed; ``delay`` seconds late, or raising
    ``error`` when set."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.live: dict[str, dict] = {}
        self.delay = 0.0
        self.error: Exception | None = None

    def __call__(self, row: dict, timeout=None):
        guests = self

        class Guest:
            def update_overrides(self, context, overrides: dict,
                                 dynamic: list) -> list:
                return guests.update_overrides(row['id'], overrides)
        return Guest()

    def update_overrides(self, instance_id: str, overrides: dict) -> list:
        self.calls.append((instance_id, dict(overrides)))
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        before = self.live.get(instance_id, {})
        self.live[instance_id] = dict(overrides)
        return sorted(name for name in set(before) | set(overrides)
                      if before.get(name) != overrides.get(name))


class ConfigurationApiTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version(default=True)
        self.other = self.make_version(datastore='postgresql', name='16',
                                       manager='postgresql')
        for rule in RULES:
            values = config_parameters.mgmt_values(dict(
                rule, data_type=rule['type']))
            values['name'] = rule['name']
            db_api.config_parameter_create(self.context, self.version['id'],
                                           values)
        self.tasks = test_instances.RecordingTasks()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks',
            lambda: self.tasks))
        self.guests = RecordingGuests()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.hooks.guest_client', self.guests))

    def create(self, values: dict, status: int = 200, **extra):
        fields = dict(name='group', values=values,
                      datastore={'type': 'mysql', 'version': '5.7.29'})
        fields.update(extra)
        body = {'configuration': fields}
        return self.send('POST', '/configurations', body, status=status)

    def count(self) -> int:
        return len(self.get('/configurations').json['configurations'])

    def instance(self, version: str = 'mysql') -> str:
        body = {'instance': {'name': 'db', 'flavorRef': '1',
                             'volume': {'size': 1},
                             'datastore': {'type': version}}}
        instance_id = self.send('POST', '/instances', body,
                                status=200).json['instance']['id']
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 1.0)
        return instance_id

    def test_create_show_list(self) -> None:
        group = self.create({'max_connections': 200, 'autocommit': True,
                             'long_query_time': 2.5, 'sql_mode': 'ANSI'},
                            description='for tests').json['configuration']
        self.assertEqual({'max_connections': 200, 'autocommit': True,
                          'long_query_time': 2.5, 'sql_mode': 'ANSI'},
                         group['values'])
        self.assertEqual(('mysql', '5.7.29', '5.7.29', 0),
                         (group['datastore_name'],
                          group['datastore_version_name'],
                          group['datastore_version_number'],
                          group['instance_count']))
        shown = self.get('/configurations/%s' % group['id']).json[
            'configuration']
        self.assertEqual(group, shown)
        listed = self.get('/configurations').json['configurations']
        self.assertEqual([group['id']], [item['id'] for item in listed])
        self.assertNotIn('values', listed[0])
        self.assertError(self.get('/configurations/%s' % group['id'],
                                  project='project-b', status=404), 404,
                         'itemNotFound', group['id'])

    def test_bad_values_are_422_and_store_nothing(self) -> None:
        cases = [
            ({'nosuch': 1}, 'nosuch'),
            ({'max_connections': 'many'}, 'integer'),
            ({'max_connections': True}, 'integer'),
            ({'max_connections': 0}, 'minimum 1'),
            ({'max_connections': 100001}, 'maximum 100000'),
            ({'autocommit': 1}, 'boolean'),
            ({'sql_mode': 5}, 'string'),
            ({'long_query_time': 4000.5}, 'maximum 3600'),
        ]
        for values, text in cases:
            response = self.create(values, status=422)
            self.assertError(response, 422, 'unprocessableEntity', text)
        response = self.send('POST', '/configurations', {'configuration': {
            'name': 'g', 'values': {'max_connections': 5},
            'datastore': {'type': 'postgresql', 'version': '16'}}},
            status=422)
        self.assertError(response, 422, 'unprocessableEntity',
                         'not supported')
        self.assertEqual(0, self.count())

    def test_put_replaces_patch_merges_and_reapplies(self) -> None:
        group_id = self.create({'max_connections': 200}).json[
            'configuration']['id']
        instance_id = self.instance()
        self.send('PUT', '/instances/%s' % instance_id,
                  {'instance': {'configuration': group_id}})
        # Applied by the guest before the 202, as in Trove.
        self.assertEqual([(instance_id, {'max_connections': 200})],
                         self.guests.calls)
        shown = self.get('/instances/%s' % instance_id).json['instance']
        self.assertEqual(group_id, shown['configuration']['id'])
        self.assertEqual('ACTIVE', shown['status'])
        path = '/configurations/%s' % group_id
        self.send('PATCH', path, {'configuration': {'values': {
            'autocommit': False}}}, status=200)
        self.assertEqual({'max_connections': 200, 'autocommit': False},
                         self.get(path).json['configuration']['values'])
        self.send('PUT', path, {'configuration': {'values': {
            'sql_mode': 'ANSI'}}})
        group = self.get(path).json['configuration']
        self.assertEqual({'sql_mode': 'ANSI'}, group['values'])
        self.assertEqual(1, group['instance_count'])
        self.assertEqual((instance_id, {'sql_mode': 'ANSI'}),
                         self.guests.calls[-1])
        self.assertEqual(3, len(self.guests.calls))
        self.assertEqual([], self.tasks.calls[1:])
        self.assertError(self.send('PATCH', path, {'configuration': {
            'values': {'max_connections': -5}}}, status=422), 422,
            'unprocessableEntity', 'max_connections')
        self.assertEqual({'sql_mode': 'ANSI'},
                         self.get(path).json['configuration']['values'])
        self.assertEqual([{'id': instance_id, 'name': 'db'}],
                         self.get(path + '/instances').json['instances'])
        self.assertError(self.send('DELETE', path, status=400), 400,
                         'badRequest', 'detach')
        self.send('PATCH', '/instances/%s' % instance_id,
                  {'instance': {'configuration': None}})
        self.assertEqual((instance_id, {}), self.guests.calls[-1])
        self.assertNotIn('configuration', self.get(
            '/instances/%s' % instance_id).json['instance'])
        self.send('DELETE', path)
        self.assertEqual(0, self.count())

    def test_attach_refusals_change_nothing(self) -> None:
        group_id = self.create({'max_connections': 200}).json[
            'configuration']['id']
        self.make_version(datastore='redis', name='7.0', manager='redis',
                          default=True)
        redis_id = self.instance('redis')
        self.assertError(self.send('PUT', '/instances/%s' % redis_id, {
            'instance': {'configuration': group_id}}, status=422), 422,
            'unprocessableEntity', 'another datastore version')
        self.assertError(self.send('PUT', '/instances/%s' % redis_id, {
            'instance': {'configuration': None}}, status=400), 400,
            'badRequest', 'no configuration group')
        building = self.send('POST', '/instances', {'instance': {
            'name': 'b', 'flavorRef': '1', 'volume': {'size': 1},
            'datastore': {'type': 'mysql'}}},
            status=200).json['instance']['id']
        self.assertError(self.send('PUT', '/instances/%s' % building, {
            'instance': {'configuration': group_id}}, status=422), 422,
            'unprocessableEntity', 'BUILD')
        self.assertError(self.send('POST', '/instances', {'instance': {
            'name': 'c', 'flavorRef': '1', 'volume': {'size': 1},
            'datastore': {'type': 'redis'},
            'configuration': group_id}}, status=422), 422,
            'unprocessableEntity')
        self.assertEqual(0, self.get('/configurations/%s' % group_id).json[
            'configuration']['instance_count'])
        self.assertEqual([], self.guests.calls)

    def test_restart_required_value_is_known_at_the_answer(self) -> None:
        group_id = self.create({'innodb_log_buffer_size': 524288}).json[
            'configuration']['id']
        instance_id = self.instance()
        self.send('PUT', '/instances/%s' % instance_id,
                  {'instance': {'configuration': group_id}})
        self.assertEqual('RESTART_REQUIRED', self.get(
            '/instances/%s' % instance_id).json['instance']['status'])

    def test_a_silent_or_failing_guest_leaves_a_fault(self) -> None:
        """The request waits for the guest at most agent_call_low_timeout;
        the group stays attached, the instance RESTART_REQUIRED with a
        fault saying why."""
        self.conf.config(agent_call_low_timeout=1)
        group_id = self.create({'max_connections': 200}).json[
            'configuration']['id']
        for error, delay, details in (
                (None, 1.5, 'did not answer within 1 seconds'),
                (exception.GuestError(instance='x', method='update_overrides',
                                      reason='engine down'), 0,
                 'engine down')):
            instance_id = self.instance()
            self.guests.error, self.guests.delay = error, delay
            started = time.monotonic()
            self.send('PUT', '/instances/%s' % instance_id,
                      {'instance': {'configuration': group_id}})
            self.assertLess(time.monotonic() - started, 1.4)
            shown = self.get('/instances/%s' % instance_id).json['instance']
            self.assertEqual(group_id, shown['configuration']['id'])
            self.assertEqual('RESTART_REQUIRED', shown['status'])
            self.assertIn('not applied', shown['fault']['message'])
            self.assertIn(details, shown['fault']['details'])

    def test_create_with_a_group(self) -> None:
        self.conf.config(default_datastore='mysql')
        group_id = self.create({'max_connections': 200}).json[
            'configuration']['id']
        instance = self.send('POST', '/instances', {'instance': {
            'name': 'c', 'flavorRef': '1', 'volume': {'size': 1},
            'configuration': group_id}}, status=200).json['instance']
        self.assertEqual(group_id, instance['configuration']['id'])

    def test_names_unique_per_tenant_quota_and_pages(self) -> None:
        first = self.create({}, name='same').json['configuration']
        self.assertError(self.create({}, status=400, name='same'), 400,
                         'badRequest', "'same'")
        self.send('POST', '/configurations', {'configuration': {
            'name': 'same', 'values': {}, 'datastore': {
                'type': 'mysql'}}}, status=200, project='project-b')
        other = self.create({}, name='other').json['configuration']
        self.assertError(self.send('PUT', '/configurations/%s' % other['id'],
                                   {'configuration': {'name': 'same',
                                                      'values': {}}},
                                   status=400), 400, 'badRequest', 'same')
        self.send('DELETE', '/configurations/%s' % first['id'])
        third = self.create({}, name='same').json['configuration']
        # Quota: two groups left in project-a.
        self.conf.config(max_configurations_per_tenant=2)
        self.assertError(self.create({}, status=413, name='third'), 413,
                         'overLimit', 'configurations')
        self.assertEqual(2, self.get('/limits').json['limits'][0][
            'max_configurations'])
        # Pages of configurations_page_size.
        self.conf.config(configurations_page_size=1)
        page = self.get('/configurations').json
        self.assertEqual([other['id']], [group['id'] for group in
                                         page['configurations']])
        self.assertIn('marker=%s' % other['id'], page['links'][0]['href'])
        page = self.get('/configurations?marker=%s' % other['id']).json
        self.assertEqual(([third['id']], []),
                         ([group['id'] for group in page['configurations']],
                          page['links']))
