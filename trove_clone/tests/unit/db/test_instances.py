"""An instance's error task and the fault that explains it are written
together: a reader never sees ERROR without its reason."""
from unittest import mock

from taskflow.patterns import linear_flow

from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager.tasks import base as task_base
from trove_clone.taskmanager import jobs
from trove_clone.taskmanager.tasks import db as db_tasks
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.taskmanager import test_jobs


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


def _two_step_flow() -> linear_flow.Flow:
    return linear_flow.Flow('sample').add(test_jobs.Record('one'))


class FailWithoutFlowTest(base.ApiTestCase):
    """Recovery fails a build only if no saved flow carries it, decided in
    the statement that fails it: a create cast delivered late (its flow
    saved first) keeps its build."""

    def setUp(self) -> None:
        super().setUp()
        self.instance_id = self.make_instance(self.make_version())
        self.failure = task_base.StepFailed(
            'server', 'the taskmanager stopped before the server was '
            'created')

    def test_a_build_with_no_flow_is_failed(self) -> None:
        self.assertTrue(db_tasks.build_failed(
            self.context, self.instance_id, self.failure, without_flow=True))
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual(statuses.BUILDING_ERROR_SERVER.code, row['task_id'])
        self.assertIn('taskmanager stopped', row['fault']['message'])

    def test_a_build_whose_flow_was_saved_is_left_alone(self) -> None:
        jobs.save(_two_step_flow, self.instance_id, {'subject': 'x'})
        self.assertFalse(db_tasks.build_failed(
            self.context, self.instance_id, self.failure, without_flow=True))
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual(statuses.BUILDING.code, row['task_id'])
        self.assertIsNone(row['fault'])

    def test_a_finished_flow_does_not_carry_the_build(self) -> None:
        jobs.run_now(_two_step_flow, self.instance_id, {'subject': 'x'})
        self.assertTrue(db_tasks.build_failed(
            self.context, self.instance_id, self.failure, without_flow=True))

    def test_finished_states_are_taskflows(self) -> None:
        self.assertEqual(set(jobs.FINISHED),
                         set(db_instances.FLOW_FINISHED))
