"""An instance's error task and the fault that explains it are written
together: a reader never sees ERROR without its reason."""
from unittest import mock

from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager.tasks import base as task_base
from trove_clone.taskmanager.tasks import db as db_tasks
from trove_clone.tests.unit.api import base


class FailTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.instance_id = self.make_instance(self.make_version())

    def test_build_failure_shows_error_with_its_fault(self) -> None:
        db_tasks.build_failed(self.context, self.instance_id,
                              task_base.StepFailed(
                                  'guest', 'the guest failed to prepare '
                                  'its database', 'FATAL engine'))
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual('ERROR', statuses.api_status(
            row['task_id'], row['server_status'],
            statuses.service_status(row['service_status'])))
        self.assertEqual(statuses.BUILDING_ERROR_TIMEOUT_GA.code,
                         row['task_id'])
        self.assertEqual('Building the instance failed at step guest: the '
                         'guest failed to prepare its database',
                         row['fault']['message'])
        self.assertEqual('FATAL engine', row['fault']['details'])

    def test_task_is_unchanged_when_the_fault_cannot_be_written(self) -> None:
        before = db_instances.get(self.context, self.instance_id)
        with mock.patch.object(db_instances, '_fault',
                               side_effect=RuntimeError('disk full')):
            self.assertRaises(RuntimeError, db_instances.fail, self.context,
                              self.instance_id,
                              statuses.BUILDING_ERROR_SERVER, 'm', 'd')
        after = db_instances.get(self.context, self.instance_id)
        self.assertEqual(before['task_id'], after['task_id'])
        self.assertIsNone(after['fault'])
