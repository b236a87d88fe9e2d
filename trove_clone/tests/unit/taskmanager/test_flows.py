"""A build the taskmanager cannot finish leaves no server or volume
behind, even ones it never recorded."""
import fixtures
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone import drivers
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager import flows
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
        tag = flows.INSTANCE_TAG
        self.cloud = FakeCloud(
            [{'id': 'mine', 'metadata': {tag: self.instance_id}},
             {'id': 'other', 'metadata': {tag: uuidutils.generate_uuid()}},
             {'id': 'untagged', 'metadata': {}}],
            [{'id': 'my-volume', 'name': flows.volume_name(self.instance_id)},
             {'id': 'other-volume', 'name': 'trove-elsewhere'}])
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.drivers.get', self.cloud.driver))

    def test_recovered_build_deletes_what_it_never_recorded(self) -> None:
        row = db_instances.get(self.context, self.instance_id)
        flows._recover_build(self.context, row)
        self.assertEqual({'other', 'untagged'}, set(self.cloud.servers))
        self.assertEqual({'other-volume'}, set(self.cloud.volumes))
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual(statuses.BUILDING_ERROR_SERVER.code, row['task_id'])
        self.assertIn('taskmanager stopped', row['fault']['message'])

    def test_delete_of_a_failed_build_sweeps_too(self) -> None:
        flows.delete(self.context, self.instance_id)
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
        flows.delete(self.context, self.instance_id)
        self.assertRaises(exception.InstanceNotFound, db_instances.get,
                          self.context, self.instance_id)
