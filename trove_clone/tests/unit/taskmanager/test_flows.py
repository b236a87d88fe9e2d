"""A build the taskmanager cannot finish leaves no server or volume
behind, even ones it never recorded."""
from unittest import mock

import fixtures
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone import drivers
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager.flows import delete as delete_flow
from trove_clone.taskmanager import jobs
from trove_clone.taskmanager import recovery
from trove_clone.taskmanager.tasks import compute as compute_tasks
from trove_clone.taskmanager.tasks import guest as guest_tasks
from trove_clone.taskmanager.tasks import volume as volume_tasks
from trove_clone.tests.unit.api import base


_REAL_GET = drivers.get


class FakeCloud:
    """Compute and volume drivers holding plain records."""

    def __init__(self, servers: list, volumes: list) -> None:
        self.servers = {server['id']: server for server in servers}
        self.volumes = {volume['id']: volume for volume in volumes}

    def driver(self, kind: str):
        if kind == 'compute':
            return _Store(self.servers, exception.ServerNotFound)
        if kind == 'volume':
            return _Store(self.volumes, exception.VolumeNotFound)
        return _REAL_GET(kind)


class _Store:

    def __init__(self, records: dict, missing) -> None:
        self.records = records
        self.missing = missing

    def list(self) -> list:
        return list(self.records.values())

    def delete(self, record_id: str) -> None:
        if self.records.pop(record_id, None) is None:
            raise self.missing(record_id)


class UntrackedResourcesTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.instance_id = self.make_instance(self.make_version(),
                                              volume_size=1)
        tag = compute_tasks.INSTANCE_TAG
        self.cloud = FakeCloud(
            [{'id': 'mine', 'metadata': {tag: self.instance_id}},
             {'id': 'other', 'metadata': {tag: uuidutils.generate_uuid()}},
             {'id': 'untagged', 'metadata': {}}],
            [{'id': 'my-volume',
              'name': volume_tasks.volume_name(self.instance_id)},
             {'id': 'other-volume', 'name': 'trove-elsewhere'}])
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.drivers.get', self.cloud.driver))

    def delete(self) -> None:
        jobs.run_now(delete_flow.get_flow, self.instance_id, {
            'context': jobs.stored_context(self.context),
            'instance_id': self.instance_id})

    def test_recovered_build_deletes_what_it_never_recorded(self) -> None:
        row = db_instances.get(self.context, self.instance_id)
        recovery.recover_build(self.context, row)
        self.assertEqual({'other', 'untagged'}, set(self.cloud.servers))
        self.assertEqual({'other-volume'}, set(self.cloud.volumes))
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual(statuses.BUILDING_ERROR_SERVER.code, row['task_id'])
        self.assertIn('taskmanager stopped', row['fault']['message'])

    def test_delete_of_a_failed_build_sweeps_too(self) -> None:
        self.delete()
        self.assertEqual({'other', 'untagged'}, set(self.cloud.servers))
        self.assertEqual({'other-volume'}, set(self.cloud.volumes))
        self.assertRaises(exception.InstanceNotFound, db_instances.get,
                          self.context, self.instance_id)

    def test_a_failing_cloud_does_not_stop_the_delete(self) -> None:
        def broken(kind):
            if kind == 'flavor':
                return _REAL_GET(kind)
            raise exception.TroveError('cloud unreachable')
        self.useFixture(fixtures.MonkeyPatch('trove_clone.drivers.get',
                                             broken))
        self.delete()
        self.assertRaises(exception.InstanceNotFound, db_instances.get,
                          self.context, self.instance_id)


class GuestConfTest(base.ApiTestCase):
    """Guests get guest_transport_url when it is set, never the control
    services' transport_url then."""

    def test_guest_transport_url(self) -> None:
        row = {'id': 'instance-1'}
        conf = mock.Mock(transport_url='rabbit://control:pw@host:5672/',
                         guest_transport_url=None, control_exchange='trove',
                         guest_topic_prefix='guestagent',
                         conductor_queue='trove-conductor',
                         agent_heartbeat_time=10, debug=False,
                         guest_log_file='guest.log', rpc_clock_skew=42)
        with mock.patch.object(guest_tasks, 'CONF', conf):
            self.assertIn('transport_url = rabbit://control:pw@host:5672/\n',
                          guest_tasks.guest_conf(row, 'redis'))
            conf.guest_transport_url = (
                'rabbit://guests:pw@host:5672/trove_guests')
            text = guest_tasks.guest_conf(row, 'redis')
        self.assertIn('transport_url = rabbit://guests:pw@host:5672/'
                      'trove_guests\n', text)
        self.assertNotIn('control:pw', text)
        self.assertIn('rpc_clock_skew = 42\n', text)


class SettleTest(base.ApiTestCase):

    def test_an_instance_deleted_since_the_start_is_skipped(self) -> None:
        """Settling goes on past an instance deleted since the start (no
        error logged), and settles the next one."""
        settled = []

        def settle_one(context, instance_id, carried=()):
            settled.append(instance_id)
            if instance_id == 'gone':
                raise exception.InstanceNotFound(instance=instance_id)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.recovery._settle_one', settle_one))
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.recovery.RECOVERY_GRACE', 0))
        logger = self.useFixture(fixtures.FakeLogger(
            name='trove_clone.taskmanager.recovery'))
        recovery._settle(self.context, ['gone', 'next'])
        self.assertEqual(['gone', 'next'], settled)
        self.assertNotIn('failed', logger.output)
