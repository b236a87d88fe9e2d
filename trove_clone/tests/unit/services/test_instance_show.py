"""services.instances.volume_stats: show asks the guest for the volume's
use only when the guest is up and heard from lately, and a guest that
cannot say gives no stats rather than an error."""
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.services import datastores as datastore_service
from trove_clone.services import instances as service
from trove_clone.tests.unit import base

IMAGE_ID = '8d3a1ab4-3cb8-4f2c-9a7e-0e1e5a1f3a10'
STATS = {'total': 1.0, 'used': 0.25, 'free': 0.75}


class StatsGuest:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def get_filesystem_stats(self, context) -> dict:
        if self.error is not None:
            raise self.error
        return STATS


class VolumeStatsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE_ID, tags=['trove', 'mysql'])
        version, _ = datastore_service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE_ID, '', True,
            create_datastore=True, make_default=True)
        db_instances.create(self.context, {
            'id': 'inst-1', 'name': 'db1', 'tenant_id': 'p',
            'flavor_id': '1', 'volume_size': 1, 'volume_id': 'vol-1',
            'server_status': 'ACTIVE',
            'datastore_version_id': version['id']}, {}, {})
        self.built: list[str] = []

    def guest(self, error: Exception | None = None):
        def make() -> StatsGuest:
            self.built.append('guest')
            return StatsGuest(error)
        return make

    def row(self) -> dict:
        return service.get(self.context, 'inst-1', None)

    def test_asked_only_of_a_healthy_guest(self) -> None:
        self.assertEqual('BUILD', self.row()['status'])
        self.assertIsNone(service.volume_stats(self.context, self.row(),
                                               self.guest()))
        self.assertEqual([], self.built)
        db_instances.set_task(self.context, 'inst-1', statuses.NONE)
        db_instances.record_heartbeat(self.context, 'inst-1',
                                      statuses.HEALTHY, 1.0)
        self.assertEqual(STATS, service.volume_stats(
            self.context, self.row(), self.guest()))
        self.assertEqual(['guest'], self.built)

    def test_a_guest_that_cannot_say_gives_none(self) -> None:
        db_instances.set_task(self.context, 'inst-1', statuses.NONE)
        db_instances.record_heartbeat(self.context, 'inst-1',
                                      statuses.HEALTHY, 1.0)
        error = exception.GuestTimeout(instance='inst-1',
                                       method='get_filesystem_stats',
                                       timeout=2)
        self.assertIsNone(service.volume_stats(self.context, self.row(),
                                               self.guest(error)))
