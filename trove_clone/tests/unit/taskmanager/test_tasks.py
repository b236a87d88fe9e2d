"""Each task's revert undoes what its execute did, and a failed flow
reverts its completed tasks in reverse order, its guard last."""
import threading
import time
from unittest import mock

import fixtures
from taskflow import engines
from taskflow.types import failure as tf_failure

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone import drivers
from trove_clone.taskmanager.flows import create as create_flow
from trove_clone.taskmanager.flows import resize as resize_flow
from trove_clone.taskmanager import jobs
from trove_clone.taskmanager.tasks import base as task_base
from trove_clone.taskmanager.tasks import compute as compute_tasks
from trove_clone.taskmanager.tasks import db as db_tasks
from trove_clone.taskmanager.tasks import guest as guest_tasks
from trove_clone.taskmanager.tasks import quota as quota_tasks
from trove_clone.taskmanager.tasks import volume as volume_tasks
from trove_clone.tests.unit.api import base

FLAVORS = {'1': {'id': '1', 'ram': 512, 'vcpus': 1},
           '2': {'id': '2', 'ram': 1024, 'vcpus': 2}}


class Cloud:
    """Compute, volume and flavor drivers holding plain records; ``fail``
    names the driver calls that raise."""

    def __init__(self, real_get) -> None:
        self.servers: dict = {}
        self.volumes: dict = {}
        self.calls: list = []
        self.fail: set = set()
        self.real_get = real_get

    def get_driver(self, kind: str):
        if kind in ('compute', 'volume', 'flavor'):
            return _Driver(self, kind)
        return self.real_get(kind)


class _Driver:

    def __init__(self, cloud: Cloud, kind: str) -> None:
        self.cloud = cloud
        self.kind = kind
        self.records = cloud.servers if kind == 'compute' else cloud.volumes

    def _call(self, name: str, *args) -> None:
        self.cloud.calls.append((self.kind, name) + args)
        if (self.kind, name) in self.cloud.fail:
            raise exception.TroveError('%s %s refused' % (self.kind, name))

    def get(self, record_id: str) -> dict:
        if self.kind == 'flavor':
            if record_id not in FLAVORS:
                raise exception.FlavorNotFound(flavor=record_id)
            return FLAVORS[record_id]
        if record_id not in self.records:
            raise (exception.ServerNotFound if self.kind == 'compute'
                   else exception.VolumeNotFound)(record_id)
        return self.records[record_id]

    def list(self) -> list:
        return list(self.records.values())

    def create(self, *args, **kwargs) -> dict:
        self._call('create', *args[:2])
        record_id = '%s-%d' % (self.kind, len(self.cloud.calls))
        if self.kind == 'volume':
            record = {'id': record_id, 'size': args[0], 'name': args[1],
                      'mountpoint': '/srv/%s' % record_id}
        else:
            record = {'id': record_id, 'addresses': [], 'flavor_id': args[2],
                      'status': 'ACTIVE',
                      'metadata': kwargs.get('metadata', {})}
        self.records[record_id] = record
        return record

    def delete(self, record_id: str) -> None:
        self._call('delete', record_id)
        if self.records.pop(record_id, None) is None:
            raise (exception.ServerNotFound if self.kind == 'compute'
                   else exception.VolumeNotFound)(record_id)

    def update_access(self, server_id: str, is_public: bool,
                      allowed_cidrs: list, ports: list) -> None:
        self._call('update_access', server_id, is_public,
                   tuple(allowed_cidrs), tuple(ports))

    def extend(self, record_id: str, size: int) -> None:
        self._call('extend', record_id, size)
        self.records[record_id]['size'] = size

    def resize(self, record_id: str, flavor_id: str) -> None:
        self._call('resize', record_id, flavor_id)
        self.records[record_id]['flavor_id'] = flavor_id


def usage(context, resource: str) -> int:
    return db_api.quota_usage_get_all(context, 'p').get(
        resource, {}).get('in_use', 0)


class TaskTestCase(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.cloud = Cloud(drivers.get)
        self.useFixture(fixtures.MonkeyPatch('trove_clone.drivers.get',
                                             self.cloud.get_driver))
        self.guest = mock.Mock()
        self.guest.update_overrides.return_value = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.tasks.base.guest_for',
            lambda row, timeout=None: self.guest))
        self.notified: list = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.common.notification.notify',
            lambda context, event, payload, error=False:
            self.notified.append(event)))
        self.version = self.make_version()
        self.instance_id = self.make_instance(self.version, volume_size=2)
        self.store = {'context': jobs.stored_context(self.context),
                      'instance_id': self.instance_id}
        self.ctx = self.store['context']
        self.real_guest_conf = guest_tasks.guest_conf
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.tasks.guest.guest_conf',
            lambda row, manager, volume_id=None: '[DEFAULT]\n'))

    def row(self) -> dict:
        return db_instances.get(self.context, self.instance_id,
                                deleted=True)

    def run_flow(self, flow, **store) -> list:
        """Run ``flow``; returns the (task, state) transitions."""
        engine = engines.load(flow, store=dict(self.store, **store),
                              engine='serial')
        seen = []
        engine.atom_notifier.register(
            engine.atom_notifier.ANY,
            lambda state, details: seen.append((details['task_name'],
                                                state)))
        try:
            engine.run()
        except Exception:  # noqa: B902 - the flow failed; tests look
            pass
        return seen

    def reverted(self, seen: list) -> list:
        return [name for name, state in seen if state == 'REVERTED']


class CreateFlowTest(TaskTestCase):

    def test_a_failed_server_reverts_in_reverse_order(self) -> None:
        self.cloud.fail.add(('compute', 'create'))
        seen = self.run_flow(create_flow.get_flow(), request={})
        self.assertEqual(['server', 'guest queue', 'image', 'volume',
                          'start'], self.reverted(seen))
        self.assertEqual({}, self.cloud.volumes)
        row = self.row()
        self.assertEqual(statuses.BUILDING_ERROR_SERVER.code,
                         row['task_id'])
        self.assertIsNone(row['volume_id'])
        self.assertEqual('ERROR', row['server_status'])
        self.assertEqual('Building the instance failed at step server: '
                         'compute create refused', row['fault']['message'])
        self.assertIn('dbaas.instance_create.error', self.notified)

    def test_a_failed_guest_deletes_server_and_volume(self) -> None:
        self.guest.prepare.side_effect = exception.TroveError('no guest')
        seen = self.run_flow(create_flow.get_flow(), request={})
        self.assertEqual('prepare', [name for name, state in seen
                                     if state == 'FAILURE'][0])
        self.assertEqual({}, self.cloud.servers)
        self.assertEqual({}, self.cloud.volumes)
        row = self.row()
        self.assertIsNone(row['server_id'])
        self.assertIn('step prepare: no guest', row['fault']['message'])

    def test_a_duplicate_create_changes_nothing(self) -> None:
        db_instances.update(self.context, self.instance_id,
                            {'server_id': 'already'})
        self.run_flow(create_flow.get_flow(), request={})
        row = self.row()
        self.assertEqual(statuses.BUILDING.code, row['task_id'])
        self.assertIsNone(row['fault'])
        self.assertEqual([], self.cloud.calls)

    def test_a_resumed_create_finds_its_volume_and_server(self) -> None:
        volume = volume_tasks.CreateVolume().execute(self.store['context'],
                                                     self.instance_id)
        db_instances.update(self.context, self.instance_id,
                            {'volume_id': None})
        again = volume_tasks.CreateVolume().execute(self.store['context'],
                                                    self.instance_id)
        self.assertEqual(volume, again)
        self.assertEqual(1, len(self.cloud.volumes))
        self.cloud.servers['s'] = {'id': 's', 'addresses': [], 'metadata': {
            compute_tasks.INSTANCE_TAG: self.instance_id}}
        server = compute_tasks.CreateServer().execute(
            self.store['context'], self.instance_id, 'image', volume)
        self.assertEqual('s', server)
        self.assertNotIn(('compute', 'create'),
                         [call[:2] for call in self.cloud.calls])

    def test_a_resumed_create_replaces_a_server_in_error(self) -> None:
        """A server the killed taskmanager left half-made (ERROR) is
        deleted and made again, not used."""
        self.cloud.servers['s'] = {
            'id': 's', 'addresses': [], 'status': 'ERROR', 'metadata': {
                compute_tasks.INSTANCE_TAG: self.instance_id}}
        server = compute_tasks.CreateServer().execute(
            self.store['context'], self.instance_id, 'image', None)
        self.assertNotEqual('s', server)
        self.assertEqual([server], list(self.cloud.servers))
        self.assertIn(('compute', 'delete', 's'), self.cloud.calls)

    def test_a_resumed_create_replaces_a_volume_in_error(self) -> None:
        self.cloud.volumes['v'] = {'id': 'v', 'size': 2, 'status': 'error',
                                   'name': volume_tasks.volume_name(
                                       self.instance_id)}
        volume = volume_tasks.CreateVolume().execute(self.store['context'],
                                                     self.instance_id)
        self.assertNotEqual('v', volume)
        self.assertEqual([volume], list(self.cloud.volumes))

    def test_guest_conf_carries_the_flavor_and_volume(self) -> None:
        volume = volume_tasks.CreateVolume().execute(self.store['context'],
                                                     self.instance_id)
        conf = mock.Mock(transport_url='rabbit://h/', guest_transport_url='',
                         rpc_clock_skew=1, control_exchange='trove',
                         guest_topic_prefix='g', conductor_queue='c',
                         agent_heartbeat_time=1, debug=False,
                         guest_log_file='guest.log')
        with mock.patch.object(guest_tasks, 'CONF', conf):
            text = self.real_guest_conf(self.row(), 'mysql', volume)
        self.assertIn('guest_ram_mb = 512\n', text)
        self.assertIn('guest_vcpus = 1\n', text)
        self.assertIn('guest_volume = /srv/%s\n' % volume, text)


class RevertTest(TaskTestCase):
    """Each revert, on its own."""

    def test_create_volume_revert_deletes_it(self) -> None:
        task = volume_tasks.CreateVolume()
        volume = task.execute(self.ctx, self.instance_id)
        task.revert(self.ctx, self.instance_id, volume)
        self.assertEqual({}, self.cloud.volumes)
        self.assertIsNone(self.row()['volume_id'])

    def test_create_volume_revert_of_its_own_failure_does_nothing(self):
        volume_tasks.CreateVolume().revert(
            self.ctx, self.instance_id,
            tf_failure.Failure.from_exception(RuntimeError('x')))
        self.assertEqual([], self.cloud.calls)

    def test_create_server_revert_deletes_it(self) -> None:
        task = compute_tasks.CreateServer()
        server = task.execute(self.ctx, self.instance_id, 'image',
                              None)
        self.assertEqual(server, self.row()['server_id'])
        task.revert(self.ctx, self.instance_id, server)
        self.assertEqual({}, self.cloud.servers)
        self.assertIsNone(self.row()['server_id'])

    def test_resize_server_revert_moves_it_back(self) -> None:
        server = compute_tasks.CreateServer().execute(
            self.ctx, self.instance_id, 'image', None)
        task = compute_tasks.ResizeServer()
        task.execute(self.ctx, self.instance_id, '2')
        self.assertEqual('2', self.cloud.servers[server]['flavor_id'])
        task.revert(self.ctx, self.instance_id, '1', None)
        self.assertEqual('1', self.cloud.servers[server]['flavor_id'])

    def test_resize_server_revert_of_its_own_failure_does_nothing(self):
        compute_tasks.ResizeServer().revert(
            self.ctx, self.instance_id, '1',
            tf_failure.Failure.from_exception(RuntimeError('x')))
        self.assertEqual([], self.cloud.calls)

    def test_extend_volume_run_again_after_it_finished_does_nothing(self):
        """A taskmanager killed after the volume grew but before the task
        was recorded: the resumed task finds it grown and is done."""
        volume = volume_tasks.CreateVolume().execute(self.ctx,
                                                     self.instance_id)
        task = volume_tasks.ExtendVolume()
        task.execute(self.ctx, self.instance_id, 3)
        self.assertEqual(3, self.cloud.volumes[volume]['size'])
        task.execute(self.ctx, self.instance_id, 3)
        self.assertEqual(1, len([call for call in self.cloud.calls
                                 if call[:2] == ('volume', 'extend')]))

    def test_stop_database_revert_starts_it(self) -> None:
        task = guest_tasks.StopDatabase()
        task.execute(self.ctx, self.instance_id)
        self.guest.stop_db.assert_called_once()
        task.revert(self.ctx, self.instance_id, None)
        self.guest.start_db.assert_called_once()

    def test_stop_database_revert_starts_it_at_the_tasks_named(self):
        task = guest_tasks.StopDatabase(start_on_revert=('resize server',))
        failure = tf_failure.Failure.from_exception(RuntimeError('x'))
        task.revert(self.ctx, self.instance_id, None,
                    flow_failures={'wait': failure})
        self.guest.start_db.assert_not_called()
        task.revert(self.ctx, self.instance_id, None,
                    flow_failures={'resize server': failure})
        self.guest.start_db.assert_called_once()

    def test_update_flavor_revert_sends_the_old_sizes(self) -> None:
        task = guest_tasks.UpdateFlavor()
        task.execute(self.ctx, self.instance_id, '2')
        task.revert(self.ctx, self.instance_id, '1')
        self.assertEqual([mock.call(mock.ANY, 1024, 2),
                          mock.call(mock.ANY, 512, 1)],
                         self.guest.update_flavor.call_args_list)

    def test_record_flavor_revert_records_the_old_one(self) -> None:
        task = db_tasks.RecordFlavor()
        task.execute(self.ctx, self.instance_id, '1', '2')
        self.assertEqual('2', self.row()['flavor_id'])
        task.revert(self.ctx, self.instance_id, '1')
        self.assertEqual('1', self.row()['flavor_id'])

    def usage(self, resource: str) -> int:
        return usage(self.context, resource)

    def test_volume_quota_revert_gives_back_unless_grown(self) -> None:
        volume = volume_tasks.CreateVolume().execute(self.ctx,
                                                     self.instance_id)
        db_instances.change_quota(self.context, 'p', {'volumes': 5},
                                  {'volumes': 100})
        task = quota_tasks.HoldVolumeQuota()
        held = task.execute(self.ctx, self.instance_id, 2, 5)
        self.assertEqual(3, held)
        task.revert(self.ctx, self.instance_id, 5, held)
        self.assertEqual(2, self.usage('volumes'))
        # A grown volume keeps its quota.
        self.cloud.volumes[volume]['size'] = 5
        task.revert(self.ctx, self.instance_id, 5, held)
        self.assertEqual(2, self.usage('volumes'))

    def test_flavor_quota_revert_gives_back_a_larger_flavor(self) -> None:
        db_instances.change_quota(self.context, 'p', {'ram': 1024},
                                  {'ram': 100000})
        task = quota_tasks.HoldFlavorQuota()
        held = task.execute(self.ctx, self.instance_id, '1', '2')
        self.assertEqual(512, held)
        task.revert(self.ctx, self.instance_id, held)
        self.assertEqual(512, self.usage('ram'))

    def test_flavor_quota_revert_counts_a_smaller_one_again(self) -> None:
        db_instances.change_quota(self.context, 'p', {'ram': 512},
                                  {'ram': 100000})
        task = quota_tasks.HoldFlavorQuota()
        held = task.execute(self.ctx, self.instance_id, '2', '1')
        self.assertEqual(-512, held)
        task.revert(self.ctx, self.instance_id, held)
        self.assertEqual(1024, self.usage('ram'))

    def test_action_guard_revert_adds_the_fault_and_ends_the_task(self):
        db_instances.set_task(self.context, self.instance_id,
                              statuses.RESIZING)
        failure = tf_failure.Failure.from_exception(
            task_base.StepFailed('resize server', 'no room'))
        db_tasks.ActionGuard('resize_flavor').revert(
            self.ctx, self.instance_id, {'resize server': failure})
        row = self.row()
        self.assertEqual(statuses.NONE.code, row['task_id'])
        self.assertEqual('Resize_flavor failed at step resize server: no '
                         'room', row['fault']['message'])
        self.assertIn('dbaas.instance_resize_flavor.error', self.notified)


class ResizeFlavorFlowTest(TaskTestCase):

    def test_a_failed_resize_gives_back_ram_and_flavor(self) -> None:
        compute_tasks.CreateServer().execute(
            self.store['context'], self.instance_id, 'image', None)
        db_instances.change_quota(self.context, 'p', {'ram': 1024},
                                  {'ram': 100000})
        db_instances.set_task(self.context, self.instance_id,
                              statuses.RESIZING)
        self.guest.get_status.return_value = {'error': 'gone'}
        db_instances.set_service_status(self.context, self.instance_id,
                                        statuses.FAILED)
        seen = self.run_flow(resize_flow.get_flavor_flow(), old_flavor='1',
                             new_flavor='2')
        self.assertEqual(['wait', 'record flavor', 'resize server',
                          'update flavor', 'stop database', 'quota',
                          'start'], self.reverted(seen))
        row = self.row()
        self.assertEqual('1', row['flavor_id'])
        self.assertEqual(statuses.NONE.code, row['task_id'])
        self.assertIn('failed at step wait', row['fault']['message'])
        self.assertEqual(512, usage(self.context, 'ram'))
        self.assertEqual([('compute', 'resize', row['server_id'], '2'),
                          ('compute', 'resize', row['server_id'], '1')],
                         [c for c in self.cloud.calls if c[1] == 'resize'])
        # The server moved back reboots: its agent starts the database.
        self.guest.start_db.assert_not_called()

    def test_a_refused_move_starts_the_database_again(self) -> None:
        """The cloud refuses the new flavor (no valid host): the server
        did not move and keeps running; the database the flow stopped is
        started again, the RAM given back."""
        compute_tasks.CreateServer().execute(
            self.store['context'], self.instance_id, 'image', None)
        db_instances.change_quota(self.context, 'p', {'ram': 1024},
                                  {'ram': 100000})
        db_instances.set_task(self.context, self.instance_id,
                              statuses.RESIZING)
        self.cloud.fail.add(('compute', 'resize'))
        seen = self.run_flow(resize_flow.get_flavor_flow(), old_flavor='1',
                             new_flavor='2')
        self.assertEqual(['resize server', 'update flavor', 'stop database',
                          'quota', 'start'], self.reverted(seen))
        self.guest.stop_db.assert_called_once()
        self.guest.start_db.assert_called_once()
        row = self.row()
        self.assertEqual(('1', statuses.NONE.code),
                         (row['flavor_id'], row['task_id']))
        self.assertIn('failed at step resize server', row['fault']['message'])
        self.assertEqual(512, usage(self.context, 'ram'))


class RunStepTest(base.ApiTestCase):

    def test_a_late_step_is_undone(self) -> None:
        release = threading.Event()
        undone = []

        def slow():
            release.wait(5)
            return 'made'
        self.assertRaises(task_base.StepFailed, task_base.run_step, 'slow',
                          0.1, slow, undo=undone.append)
        self.assertEqual([], undone)
        release.set()
        deadline = time.monotonic() + 5
        while not undone and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(['made'], undone)

    def test_failure_names_the_step(self) -> None:
        def broken():
            raise exception.TroveError('refused')
        error = self.assertRaises(task_base.StepFailed, task_base.run_step,
                                  'server', 5, broken)
        self.assertEqual(('server', 'refused'), (error.step, error.reason))

    def test_a_persisted_failure_is_read_back(self) -> None:
        failure = tf_failure.Failure.from_exception(
            task_base.StepFailed('volume', 'no space'))
        reloaded = tf_failure.Failure.from_dict(failure.to_dict())
        found = task_base.first_failure({'volume': reloaded})
        self.assertEqual(('volume', 'no space'), (found.step, found.reason))
