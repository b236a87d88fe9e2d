"""Every instance action is one path: the API takes the instance's task
with a conditional UPDATE, casts (or calls the guest), and when the broker
does not take the message gives back what it took (task, service status,
quota, configuration group, name) and answers 503 in Trove's envelope.

Each action is tried from an instance with no task and from one whose
task is RESTART_REQUIRED (the task given back must be that one, not
NONE). The RPC clients are replaced where the API builds them, in
api/hooks.py.
"""
import fixtures

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances
from trove_clone.services import config_parameters
from trove_clone.services import quotas
from trove_clone.tests.unit.api import base

ACTION = '/instances/{id}/action'
INSTANCE = '/instances/{id}'
MGMT_ACTION = '/mgmt/instances/{id}/action'
GROUP = '/configurations/{group}'
RULES = [
    {'name': 'max_connections', 'restart_required': False,
     'data_type': 'integer', 'min_size': 1, 'max_size': 100000},
    {'name': 'innodb_log_buffer_size', 'restart_required': True,
     'data_type': 'integer', 'min_size': 262144,
     'max_size': 4294967295},
]

# (label, method, path, body, admin, flavor of the instance, attached
#  group, what the cast was for)
CASES = [
    ('restart', 'POST', ACTION, {'restart': {}}, False, '1', False,
     'restart'),
    ('resize volume', 'POST', ACTION, {'resize': {'volume': {'size': 3}}},
     False, '1', False, 'resize_volume'),
    ('resize flavor up', 'POST', ACTION, {'resize': {'flavorRef': '3'}},
     False, '1', False, 'resize_flavor'),
    ('resize flavor down', 'POST', ACTION, {'resize': {'flavorRef': '1'}},
     False, '3', False, 'resize_flavor'),
    ('upgrade (PUT)', 'PUT', INSTANCE,
     {'instance': {'datastore_version': '5.7.30'}}, False, '1', False,
     'upgrade'),
    ('upgrade and rename (PATCH)', 'PATCH', INSTANCE,
     {'instance': {'name': 'renamed', 'datastore_version': '5.7.30'}},
     False, '1', False, 'upgrade'),
    ('configuration attach (PUT)', 'PUT', INSTANCE,
     {'instance': {'configuration': '{group}'}}, False, '1', False,
     'update_overrides'),
    ('configuration attach and rename (PATCH)', 'PATCH', INSTANCE,
     {'instance': {'name': 'renamed', 'configuration': '{group}'}},
     False, '1', False, 'update_overrides'),
    ('configuration detach (PUT)', 'PUT', INSTANCE,
     {'instance': {'configuration': None}}, False, '1', True,
     'update_overrides'),
    ('configuration detach, empty body (PUT)', 'PUT', INSTANCE,
     {'instance': {}}, False, '1', True, 'update_overrides'),
    ('group values replaced (PUT)', 'PUT', GROUP,
     {'configuration': {'values': {'max_connections': 20}}}, False, '1',
     True, 'update_overrides'),
    ('group values merged (PATCH)', 'PATCH', GROUP,
     {'configuration': {'values': {'innodb_log_buffer_size': 524288}}},
     False, '1', True, 'update_overrides'),
    ('delete', 'DELETE', INSTANCE, None, False, '1', False,
     'delete_instance'),
    ('mgmt reboot', 'POST', MGMT_ACTION, {'reboot': {}}, True, '1', False,
     'reboot'),
    ('mgmt rebuild', 'POST', MGMT_ACTION,
     {'rebuild': {'image_id': base.IMAGE_ID}}, True, '1', False,
     'rebuild'),
    ('mgmt stop', 'POST', MGMT_ACTION, {'stop': {}}, True, '1', False,
     'stop_db'),
    ('backup', 'POST', '/backups', {'backup': {'name': 'b',
                                               'instance': '{id}'}},
     False, '1', False, 'create_backup'),
]


class Broker:
    """The taskmanager's and the guests' RPC clients: each method records
    its name in ``calls``; while ``dead``, it raises what rpc.BoundedClient
    raises when the broker refuses the connection."""

    def __init__(self) -> None:
        self.dead = False
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        def send(context, *args, **kwargs):
            self.calls.append(name)
            if self.dead:
                raise exception.MessagingUnavailable(
                    service='The taskmanager', method=name, timeout=5,
                    reason='[Errno 111] Connection refused')
        return send


class EveryActionDeadBrokerTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version(default=True,
                                         version_number='5.7.29')
        self.make_version(name='5.7.30', version_number='5.7.30')
        for rule in RULES:
            db_api.config_parameter_create(
                self.context, self.version['id'],
                config_parameters.mgmt_values(rule))
        self.broker = Broker()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.hooks.taskmanager_client',
            lambda: self.broker))
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.hooks.guest_client',
            lambda row, timeout=None: self.broker))
        self.sent = 0.0
        self.send('PUT', '/mgmt/quotas/%s' % self.project,
                  {'quotas': {'instances': 200, 'ram': 10 ** 6,
                              'volumes': 1000}}, admin=True, status=200)

    def group(self, name: str) -> str:
        return self.send('POST', '/configurations', {'configuration': {
            'name': name, 'values': {'max_connections': 10},
            'datastore': {'type': 'mysql', 'version': '5.7.29'}}},
            status=200).json['configuration']['id']

    def instance(self, flavor: str, task: statuses.Task,
                 group: str | None) -> str:
        """An ACTIVE, HEALTHY instance with its quota counted."""
        spec = {'name': 'db1', 'flavorRef': flavor, 'volume': {'size': 1},
                'datastore': {'type': 'mysql', 'version': '5.7.29'}}
        if group:
            spec['configuration'] = group
        instance_id = self.send('POST', '/instances', {'instance': spec},
                                status=200).json['instance']['id']
        db_instances.set_task(self.context, instance_id, task,
                              server_status='ACTIVE')
        self.sent += 1
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, self.sent)
        return instance_id

    def state(self, instance_id: str, group: str) -> tuple:
        row = db_instances.get(self.context, instance_id)
        values = db_configurations.get(self.context, group)
        return (row['name'], row['task_id'], row['task_description'],
                row['service_status'], row['flavor_id'],
                row['volume_size'], row['configuration_id'],
                row['datastore_version_id'], row['deleted'],
                values['name'], values['values'])

    @staticmethod
    def body_for(body: dict | None, group: str,
                 instance_id: str) -> dict | None:
        """``body`` with the ``{group}`` and ``{id}`` placeholders
        replaced."""
        if body and body.get('instance', {}).get('configuration') == \
                '{group}':
            return {'instance': dict(body['instance'], configuration=group)}
        if body and body.get('backup', {}).get('instance') == '{id}':
            return {'backup': dict(body['backup'], instance=instance_id)}
        return body

    def usage(self) -> dict:
        return {item['resource']: item['in_use']
                for item in quotas.show(self.context, self.project)}

    def test_every_action_answers_503_and_gives_back(self) -> None:
        for start in (statuses.NONE, statuses.RESTART_REQUIRED):
            for label, method, path, body, admin, flavor, attached, \
                    cast in CASES:
                where = '%s from %s' % (label, start.name)
                group = self.group('g-%d' % self.sent)
                instance_id = self.instance(flavor, start,
                                            group if attached else None)
                before = self.state(instance_id, group), self.usage()
                self.broker.dead = True
                self.broker.calls.clear()
                url = path.format(id=instance_id, group=group)
                sent = self.body_for(body, group, instance_id)
                response = self.send(method, url, sent, admin=admin,
                                     status='*')
                self.assertEqual(503, response.status_int,
                                 '%s: %s' % (where, response.body))
                self.assertError(response, 503, 'serviceUnavailable',
                                 'could not be reached')
                self.assertEqual([cast], self.broker.calls, where)
                self.assertEqual(before, (self.state(instance_id, group),
                                          self.usage()), where)
                # Given back: with the broker back, the same request works.
                self.broker.dead = False
                self.broker.calls.clear()
                response = self.send(method, url, sent, admin=admin,
                                     status='*')
                self.assertIn(response.status_int, (200, 202), where)
                self.assertEqual([cast], self.broker.calls, where)
                self.send('POST', ACTION.format(id=instance_id),
                          {'reset_status': {}}, admin=True)
                self.send('DELETE', INSTANCE.format(id=instance_id),
                          admin=True)

    def test_busy_instance_refused_before_anything_is_sent(self) -> None:
        group = self.group('busy')
        for label, method, path, body, admin, flavor, attached, \
                _cast in CASES:
            if path == GROUP or label.startswith('delete'):
                continue  # No task of its own / allowed while busy.
            instance_id = self.instance(flavor, statuses.RESIZING,
                                        group if attached else None)
            before = self.state(instance_id, group), self.usage()
            self.broker.calls.clear()
            sent = self.body_for(body, group, instance_id)
            response = self.send(method, path.format(id=instance_id),
                                 sent, admin=admin, status='*')
            self.assertEqual(422, response.status_int,
                             '%s: %s' % (label, response.body))
            self.assertEqual('unprocessableEntity',
                             next(iter(response.json)), label)
            self.assertEqual([], self.broker.calls, label)
            self.assertEqual(before, (self.state(instance_id, group),
                                      self.usage()), label)
            self.send('POST', ACTION.format(id=instance_id),
                      {'reset_status': {}}, admin=True)
            self.send('DELETE', INSTANCE.format(id=instance_id),
                      admin=True)

    def test_clients_are_built_by_the_hook_only_when_used(self) -> None:
        built = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.hooks.taskmanager_client',
            lambda: built.append('tasks') or self.broker))
        instance_id = self.instance('1', statuses.NONE, None)
        self.assertEqual(['tasks'], built)
        self.get('/instances')
        self.get('/instances/%s' % instance_id)
        self.assertEqual(['tasks'], built)
        self.send('POST', ACTION.format(id=instance_id), {'restart': {}})
        self.assertEqual(['tasks', 'tasks'], built)
        self.assertEqual(['create_instance', 'restart'], self.broker.calls)
