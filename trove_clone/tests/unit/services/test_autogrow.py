"""Storage autogrow: off by default; a volume used past the threshold is
resized like a user's resize (the task taken, the quota counted, the
taskmanager cast); a refusal (quota, maximum) leaves one fault, never an
exception; a busy instance is left for a later heartbeat."""
from trove_clone.common import context as trove_context
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.services import autogrow
from trove_clone.services import datastores as datastore_service
from trove_clone.services import quotas
from trove_clone.tests.unit import base

PROJECT = 'project-g'
IMAGE_ID = '8d3a1ab4-3cb8-4f2c-9a7e-0e1e5a1f3a10'


class RecordingTasks:

    def __init__(self) -> None:
        self.resizes: list[tuple] = []

    def resize_volume(self, context, instance_id: str,
                      new_size: int) -> None:
        self.resizes.append((context.project_id, instance_id, new_size))


class AutogrowTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE_ID, tags=['trove', 'mysql'])
        self.version, _ = datastore_service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE_ID, '', True,
            version_number='5.7.29', create_datastore=True,
            make_default=True)
        self.member = trove_context.TroveContext(
            user_id='u', project_id=PROJECT, roles=['member'])
        self.tasks = RecordingTasks()
        self.conf.config(volume_autogrow_threshold=90)
        self.addCleanup(autogrow._last_try.clear)
        self.instance_id = self.active(8)

    def active(self, size: int, instance_id: str = 'inst-g') -> str:
        db_instances.create(self.member, {
            'id': instance_id, 'name': instance_id, 'tenant_id': PROJECT,
            'flavor_id': '2', 'volume_size': size,
            'datastore_version_id': self.version['id'],
            'server_status': 'ACTIVE'},
            {'instances': 1, 'volumes': size},
            quotas.limits(self.member, PROJECT))
        db_instances.set_task(self.context, instance_id, statuses.NONE)
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 1.0)
        return instance_id

    def volumes_in_use(self) -> int:
        return {item['resource']: item['in_use'] for item in
                quotas.show(self.context, PROJECT)}['volumes']

    def check(self, used) -> int | None:
        return autogrow.check(self.context, self.instance_id, used,
                              self.tasks)

    def test_next_size(self) -> None:
        self.conf.config(max_accepted_volume_size=50)
        self.assertEqual(2, autogrow.next_size(1))
        self.assertEqual(11, autogrow.next_size(10))
        self.assertEqual(28, autogrow.next_size(25))
        self.conf.config(volume_autogrow_max_gb=26)
        self.assertEqual(26, autogrow.next_size(25))
        self.assertIsNone(autogrow.next_size(26))
        self.conf.config(volume_autogrow_step_percent=50)
        self.assertEqual(15, autogrow.next_size(10))

    def test_off_by_default_and_below_the_threshold(self) -> None:
        self.assertIsNone(self.check(89.9))
        self.assertIsNone(self.check(None))
        self.conf.config(volume_autogrow_threshold=0)
        self.assertFalse(autogrow.enabled())
        self.assertIsNone(self.check(100.0))
        self.assertEqual([], self.tasks.resizes)

    def test_grows_like_a_resize_once_per_retry(self) -> None:
        self.assertEqual(9, self.check(91.0))
        self.assertEqual([(PROJECT, self.instance_id, 9)],
                         self.tasks.resizes)
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual(statuses.RESIZING.code, row['task_id'])
        self.assertEqual(9, self.volumes_in_use())
        # The next heartbeats do not ask again (and the task is taken).
        self.assertIsNone(self.check(95.0))
        autogrow._last_try.clear()
        self.assertIsNone(self.check(95.0))
        self.assertEqual(1, len(self.tasks.resizes))

    def test_quota_refusal_leaves_one_fault(self) -> None:
        quotas.update(self.context, PROJECT, {'volumes': 8})
        for _ in range(2):
            autogrow._last_try.clear()
            self.assertIsNone(self.check(97.0))
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual(statuses.NONE.code, row['task_id'])
        self.assertEqual(autogrow.FAULT_MESSAGE, row['fault']['message'])
        self.assertIn('Quota exceeded', row['fault']['details'])
        self.assertIn('resize volume %s' % self.instance_id,
                      row['fault']['details'])
        self.assertEqual(8, self.volumes_in_use())
        self.assertEqual([], self.tasks.resizes)

    def test_the_maximum_leaves_a_fault(self) -> None:
        self.conf.config(volume_autogrow_max_gb=8)
        self.assertIsNone(self.check(99.0))
        fault = db_instances.get(self.context, self.instance_id)['fault']
        self.assertIn('volume_autogrow_max_gb', fault['details'])

    def test_a_busy_instance_is_grown_later(self) -> None:
        db_instances.set_task(self.context, self.instance_id,
                              statuses.REBOOTING)
        self.assertIsNone(self.check(99.0))
        self.assertEqual([], self.tasks.resizes)
        self.assertIsNone(db_instances.get(self.context,
                                           self.instance_id)['fault'])
