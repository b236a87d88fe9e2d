"""services.configurations.update_and_apply: a group change reaches every
instance the group is attached to, or is given back."""
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances
from trove_clone.services import config_parameters
from trove_clone.services import configurations as service
from trove_clone.services import datastores as datastore_service
from trove_clone.tests.unit import base

IMAGE_ID = '8d3a1ab4-3cb8-4f2c-9a7e-0e1e5a1f3a10'


class Guests:
    """The guests' clients (a GuestFor): the ``fail_at``-th instance's
    (1-based, in the order asked) finds no broker; ``cast`` lists the
    instances whose guest applied its overrides."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.asked: list[str] = []
        self.cast: list[str] = []

    def __call__(self, row: dict):
        self.asked.append(row['id'])
        unreachable = len(self.asked) == self.fail_at
        guests = self

        class Guest:
            def update_overrides(self, context, overrides: dict,
                                 dynamic: list) -> list:
                if unreachable:
                    raise exception.MessagingUnavailable(
                        service='The guest agent', method='update_overrides',
                        timeout=5, reason='[Errno 111] Connection refused')
                guests.cast.append(row['id'])
                return []
        return Guest()


class UpdateAndApplyTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE_ID, tags=['trove', 'mysql'])
        self.version, _ = datastore_service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE_ID, '', True,
            create_datastore=True, make_default=True)
        db_api.config_parameter_create(
            self.context, self.version['id'], config_parameters.mgmt_values(
                {'name': 'max_connections', 'restart_required': False,
                 'data_type': 'integer', 'min': 1, 'max': 1000}))
        created = db_configurations.create(self.context, {
            'name': 'g', 'description': 'd', 'tenant_id': 'p',
            'datastore_version_id': self.version['id']},
            {'max_connections': 10})
        self.instances = []
        for index in range(3):
            instance_id = 'inst-%d' % index
            db_instances.create(self.context, {
                'id': instance_id, 'name': instance_id, 'tenant_id': 'p',
                'flavor_id': '1', 'datastore_version_id': self.version['id'],
                'configuration_id': created['id']}, {}, {})
            db_instances.set_task(self.context, instance_id, statuses.NONE)
            self.instances.append(instance_id)
        self.group_id = created['id']

    def group(self) -> dict:
        return service.get(self.context, self.group_id, None)

    def test_every_instance_is_told(self) -> None:
        tasks = Guests()
        updated = service.update_and_apply(
            self.context, self.group(), {'values': {'max_connections': 20}},
            True, tasks)
        self.assertEqual(['max_connections'], updated['changed'])
        self.assertEqual(self.instances, sorted(tasks.cast))
        self.assertEqual({'max_connections': 20}, self.group()['values'])

    def test_building_instances_are_not_asked(self) -> None:
        """A build applies the group itself when its guest is ready."""
        db_instances.set_task(self.context, self.instances[0],
                              statuses.BUILDING)
        tasks = Guests()
        service.update_and_apply(
            self.context, self.group(), {'values': {'max_connections': 20}},
            True, tasks)
        self.assertEqual(self.instances[1:], sorted(tasks.asked))

    def test_nothing_cast_when_no_value_changed(self) -> None:
        tasks = Guests(fail_at=1)
        service.update_and_apply(
            self.context, self.group(),
            {'name': 'renamed', 'values': {'max_connections': 10}}, False,
            tasks)
        self.assertEqual([], tasks.cast)
        self.assertEqual('renamed', self.group()['name'])

    def test_a_failed_cast_gives_the_group_back(self) -> None:
        before = self.group()
        for fail_at in (1, 2):
            tasks = Guests(fail_at=fail_at)
            self.assertRaises(
                exception.MessagingUnavailable, service.update_and_apply,
                self.context, self.group(),
                {'name': 'renamed', 'description': 'new',
                 'values': {'max_connections': 30}}, False, tasks)
            # The other guests were asked all the same.
            self.assertEqual(sorted(set(self.instances) -
                                    {self.instances[fail_at - 1]}),
                             sorted(tasks.cast))
            after = self.group()
            self.assertEqual(
                (before['name'], before['description'], before['values']),
                (after['name'], after['description'], after['values']))
