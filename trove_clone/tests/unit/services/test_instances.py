"""services.instances when the broker does not take a cast: nothing is
left half-made. A create leaves no instance and no quota use; an action
gives back the task, service status and quota it took; a configuration
attach gives the instance its group back."""
from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances
from trove_clone.db import models
from trove_clone.services import datastores as datastore_service
from trove_clone.services import instances as service
from trove_clone.services import quotas
from trove_clone.tests.unit import base

PROJECT = 'project-a'
IMAGE_ID = '8d3a1ab4-3cb8-4f2c-9a7e-0e1e5a1f3a10'


class DeadBrokerTasks:
    """A Tasks whose every cast finds no broker, as rpc.BoundedClient
    reports it; ``calls`` records what was attempted."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        def cast(context, *args) -> None:
            self.calls.append(name)
            raise exception.MessagingUnavailable(
                service='The taskmanager', method=name, timeout=5,
                reason='[Errno 111] Connection refused')
        return cast


class GiveBackTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE_ID, tags=['trove', 'mysql'])
        self.version, _ = datastore_service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE_ID, '', True,
            version_number='5.7.29', create_datastore=True,
            make_default=True)
        self.newer, _ = datastore_service.upsert_version(
            self.context, 'mysql', '5.7.30', 'mysql', IMAGE_ID, '', True,
            version_number='5.7.30', create_datastore=True)
        self.member = trove_context.TroveContext(
            user_id='u', project_id=PROJECT, roles=['member'])
        self.tasks = DeadBrokerTasks()

    def usage(self) -> dict:
        return {item['resource']: item['in_use']
                for item in quotas.show(self.context, PROJECT)}

    def spec(self) -> dict:
        return {'name': 'db1', 'flavorRef': '2', 'volume': {'size': 2},
                'datastore': {'type': 'mysql', 'version': '5.7.29'}}

    def active(self) -> dict:
        """An ACTIVE, HEALTHY instance with its quota counted; returns it
        as the API loads it."""
        row = db_instances.create(self.member, {
            'id': 'inst-1', 'name': 'db1', 'tenant_id': PROJECT,
            'flavor_id': '2', 'volume_size': 2,
            'datastore_version_id': self.version['id'],
            'server_status': 'ACTIVE'},
            {'instances': 1, 'ram': 1024, 'volumes': 2},
            quotas.limits(self.member, PROJECT))
        db_instances.set_task(self.context, row['id'], statuses.NONE)
        db_instances.record_heartbeat(self.context, row['id'],
                                      statuses.HEALTHY, 1.0)
        return service.get(self.member, row['id'], PROJECT)

    def state(self, instance_id: str) -> tuple:
        row = db_instances.get(self.context, instance_id)
        return (row['task_id'], row['service_status'], row['flavor_id'],
                row['volume_size'], row['configuration_id'],
                row['datastore_version_id'])

    def test_create_leaves_nothing_and_gives_quota_back(self) -> None:
        before = self.usage()
        error = self.assertRaises(exception.MessagingUnavailable,
                                  service.create, self.member, self.spec(),
                                  self.tasks)
        self.assertEqual(503, error.code)
        self.assertIn('taskmanager', error.message)
        self.assertEqual(['create_instance'], self.tasks.calls)
        self.assertEqual([], db_api.instance_list(self.context, None, 10))
        self.assertEqual(before, self.usage())
        with db_api.facade.reader.using(self.context) as session:
            for model in (models.Instance, models.ServiceStatus,
                          models.InstanceFault, models.InstanceModule):
                self.assertEqual(0, session.query(model).count(), model)

    def test_create_keeps_other_instances_quota(self) -> None:
        self.active()
        before = self.usage()
        self.assertEqual(1, before['instances'])
        self.assertRaises(exception.MessagingUnavailable, service.create,
                          self.member, self.spec(), self.tasks)
        self.assertEqual(before, self.usage())
        self.assertEqual(['inst-1'], [row['id'] for row in
                                      db_api.instance_list(self.context,
                                                           None, 10)])

    def test_actions_give_back_task_service_and_quota(self) -> None:
        row = self.active()
        before_state, before_usage = self.state(row['id']), self.usage()
        actions = [
            ('restart', lambda: service.restart(self.member, row,
                                                self.tasks)),
            ('reboot', lambda: service.reboot(self.member, row,
                                              self.tasks)),
            ('resize_volume', lambda: service.resize_volume(
                self.member, row, 4, self.tasks)),
            ('resize_flavor', lambda: service.resize_flavor(
                self.member, row, '3', self.tasks)),
            ('resize_flavor', lambda: service.resize_flavor(
                self.member, row, '1', self.tasks)),
            ('upgrade', lambda: service.upgrade(self.member, row, '5.7.30',
                                                self.tasks)),
            ('rebuild', lambda: service.rebuild(self.member, row, IMAGE_ID,
                                                self.tasks)),
            ('delete_instance', lambda: service.delete(self.member, row,
                                                       self.tasks)),
        ]
        for name, action in actions:
            self.tasks.calls.clear()
            self.assertRaises(exception.MessagingUnavailable, action)
            self.assertEqual([name], self.tasks.calls)
            self.assertEqual(before_state, self.state(row['id']), name)
            self.assertEqual(before_usage, self.usage(), name)
        # Given back, the instance takes the next action.
        self.assertTrue(db_instances.begin_action(
            self.context, row['id'], statuses.REBOOTING))

    def test_configuration_attach_gives_the_group_back(self) -> None:
        row = self.active()
        group = db_configurations.create(self.member, {
            'name': 'g', 'description': None, 'tenant_id': PROJECT,
            'datastore_version_id': self.version['id']}, {})
        before = self.state(row['id'])
        self.assertRaises(exception.MessagingUnavailable,
                          service.attach_configuration, self.member, row,
                          group['id'], lambda row: self.tasks)
        self.assertEqual(['update_overrides'], self.tasks.calls)
        self.assertEqual(before, self.state(row['id']))
        self.assertIsNone(db_instances.get(self.context,
                                           row['id'])['configuration_id'])

    def test_give_back_leaves_a_moved_instance_alone(self) -> None:
        row = self.active()
        self.assertTrue(db_instances.begin_action(
            self.context, row['id'], statuses.RESIZING))
        # Another action's state is not the one this caller set.
        self.assertFalse(db_instances.end_action(
            self.context, row['id'], statuses.REBOOTING, statuses.NONE,
            statuses.RESTARTING, statuses.HEALTHY))
        self.assertEqual(statuses.RESIZING.code, db_instances.get(
            self.context, row['id'])['task_id'])

    def test_discard_spares_a_started_build(self) -> None:
        row = self.active()
        self.assertFalse(db_instances.discard_unbuilt(
            self.context, row['id'], {'instances': 1}))
        db_instances.set_task(self.context, row['id'], statuses.BUILDING,
                              server_id='server-1')
        self.assertFalse(db_instances.discard_unbuilt(
            self.context, row['id'], {'instances': 1}))
        self.assertEqual(1, self.usage()['instances'])
