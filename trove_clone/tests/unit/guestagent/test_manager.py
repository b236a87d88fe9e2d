"""The guest agent's heartbeat: its status, errors and the volume's use,
with a warning when the volume is nearly full."""
import collections

import fixtures

from trove_clone.guestagent import manager
from trove_clone.tests.unit import base


class RecordingConductor:

    def __init__(self) -> None:
        self.beats: list[dict] = []

    def heartbeat(self, context, instance_id, payload, sent) -> None:
        self.beats.append(dict(payload, instance_id=instance_id))


class HeartbeatTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.conf.config(guest_volume=self.volume)
        self.agent = manager.Manager('instance-1')
        self.conductor = RecordingConductor()
        self.agent._conductor = self.conductor
        self.log = self.useFixture(fixtures.FakeLogger())

    def test_report_carries_status_and_volume_use(self) -> None:
        manager.report(self.agent)
        beat = self.conductor.beats[-1]
        self.assertEqual('new', beat['service_status'])
        self.assertEqual('instance-1', beat['instance_id'])
        self.assertLess(beat['volume_used_percent'], 100)
        self.assertNotIn('error', beat)

    def test_nearly_full_volume_warns(self) -> None:
        usage = collections.namedtuple('usage', 'total used free')
        self.useFixture(fixtures.MonkeyPatch(
            'shutil.disk_usage', lambda path: usage(100, 95, 5)))
        self.agent._set_status('failed to spawn', 'engine exploded')
        beat = self.conductor.beats[-1]
        self.assertEqual(95.0, beat['volume_used_percent'])
        self.assertEqual('engine exploded', beat['error'])
        self.assertIn('95% full', self.log.output)

    def test_boot_without_prepared_state_reports_new(self) -> None:
        manager.boot(self.agent)
        self.assertEqual('new', self.conductor.beats[-1]['service_status'])
        self.assertEqual({'status': 'new', 'error': None},
                         self.agent.get_status(None))


class PostUpgradeOnceTest(base.TestCase):
    """post_upgrade asked again once it finished (a resumed upgrade flow)
    does nothing: the saved copy it would look for is gone."""

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.conf.config(guest_volume=self.volume)
        self.agent = manager.Manager('instance-1')
        self.agent._conductor = RecordingConductor()
        self.agent.manager_name = 'redis'
        self.calls = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.manager.Manager._post_upgrade',
            lambda agent, info: (self.calls.append(info),
                                 manager.state.save('redis'),
                                 agent._set_status('healthy'))))

    def test_second_call_after_the_first_finished_does_nothing(self):
        manager.state.save('redis', upgrade_pending=True)
        self.agent.post_upgrade(None, {'copy': 'x'})
        self.agent.post_upgrade(None, {'copy': 'x'})
        self.assertEqual([{'copy': 'x'}], self.calls)

    def test_pending_upgrade_runs(self) -> None:
        manager.state.save('redis', upgrade_pending=True)
        self.agent._set_status('healthy')
        self.agent.post_upgrade(None, {'copy': 'y'})
        self.assertEqual([{'copy': 'y'}], self.calls)
