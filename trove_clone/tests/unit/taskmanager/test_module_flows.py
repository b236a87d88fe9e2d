"""Reapplying a module in batches, and the module payloads a new
instance's guest gets."""
import datetime
import types

import fixtures
import oslo_messaging
from oslo_utils import uuidutils

from trove_clone.common import context
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import models
from trove_clone.db import modules as db_modules
from trove_clone.services import modules as module_service
from trove_clone.taskmanager.flows import modules as module_flows
from trove_clone.taskmanager.tasks import guest as guest_tasks
from trove_clone.tests.unit.api import base

V1 = 'bWVzc2FnZT1Nb2R1bGUuVjEK'
V2 = 'bWVzc2FnZT1Nb2R1bGUuVjIK'
MD5_V1 = '7f700cc7b99606615f8b51946f6d3228'
MD5_V2 = 'ba7c204979c8de54be6efb70a17d40b9'
OTHER_MD5 = 'e' * 32


class FakeGuests:
    """Stands in for the guests of every instance; ``outcomes`` maps an
    instance id to an exception to raise or a status to answer."""

    def __init__(self, events: list) -> None:
        self.events = events
        self.payloads: list[dict] = []
        self.outcomes: dict = {}

    def guest_for(self, row: dict, timeout: float | None = None):
        return types.SimpleNamespace(module_apply=lambda context, modules:
                                     self._apply(row['id'], modules))

    def _apply(self, instance_id: str, modules: list) -> list:
        self.events.append(('apply', instance_id))
        self.payloads.extend(modules)
        outcome = self.outcomes.get(instance_id, 'OK')
        if isinstance(outcome, Exception):
            raise outcome
        return [{'id': module['id'], 'name': module['name'],
                 'status': outcome, 'message': 'from the fake'}
                for module in modules]


class ReapplyTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(module_key_file=self.useFixture(
            fixtures.TempDir()).join('module.key'))
        self.version = self.make_version()
        self.events: list = []
        self.guests = FakeGuests(self.events)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.tasks.base.guest_for',
            self.guests.guest_for))
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.flows.modules.time',
            types.SimpleNamespace(sleep=lambda seconds: self.events.append(
                ('sleep', seconds)))))
        self.module = module_service.create(self.context, {
            'name': 'mod', 'module_type': 'ping', 'contents': V1,
            'live_update': True})
        self.applied = 0

    def instance(self, md5: str = MD5_V1, ready: bool = True,
                 cluster_id: str | None = None,
                 tenant_id: str = 'project-a') -> str:
        """An instance with the module applied at ``md5``, applied after
        the instances made before it."""
        instance_id = self.make_instance(
            self.version, name='i%d' % self.applied, tenant_id=tenant_id,
            cluster_id=cluster_id)
        if ready:
            db_instances.set_task(self.context, instance_id, statuses.NONE,
                                  server_status='ACTIVE')
            db_instances.record_heartbeat(self.context, instance_id,
                                          statuses.HEALTHY, 1.0)
        db_modules.record_applied(self.context, instance_id,
                                  self.module['id'], md5)
        self.applied += 1
        when = datetime.datetime(2026, 1, 1) + datetime.timedelta(
            minutes=self.applied)
        with db_api.facade.writer.using(self.context) as session:
            session.query(models.InstanceModule).filter_by(
                instance_id=instance_id).update({'updated': when})
        return instance_id

    def new_contents(self) -> None:
        self.module = module_service.update(self.context, self.module,
                                            {'contents': V2})

    def md5s(self, *instance_ids: str) -> list:
        found = {}
        for instance_id in instance_ids:
            applied = db_modules.applied_to(self.context, instance_id)
            found[instance_id] = applied[0]['applied_md5']
        return [found[instance_id] for instance_id in instance_ids]

    def reapply(self, md5: str | None = None, include_clustered=False,
                batch_size: int = 10, batch_delay: int = 0,
                force: bool = False) -> list:
        return module_flows.reapply(self.context, self.module['id'], md5,
                                    include_clustered, batch_size,
                                    batch_delay, force)

    def applied_to(self) -> list:
        return [event[1] for event in self.events if event[0] == 'apply']

    def fault(self, instance_id: str) -> dict | None:
        return db_instances.get(self.context, instance_id)['fault']

    def test_batches_with_a_delay_between(self) -> None:
        instances = [self.instance() for _ in range(5)]
        self.new_contents()
        done = self.reapply(batch_size=2, batch_delay=3)
        self.assertEqual(instances, done)
        self.assertEqual(
            [('apply', instances[0]), ('apply', instances[1]),
             ('sleep', 3),
             ('apply', instances[2]), ('apply', instances[3]),
             ('sleep', 3),
             ('apply', instances[4])], self.events)
        self.assertEqual([MD5_V2] * 5, self.md5s(*instances))
        payload = self.guests.payloads[0]
        self.assertEqual((self.module['id'], V2, MD5_V2),
                         (payload['id'], payload['contents'],
                          payload['md5']))
        # Nothing is left to do.
        self.events.clear()
        self.assertEqual([], self.reapply(batch_size=2, batch_delay=3))
        self.assertEqual([], self.events)

    def test_only_older_md5s_unless_forced(self) -> None:
        self.new_contents()
        current = self.instance(MD5_V2)
        older = self.instance(MD5_V1)
        self.assertEqual([older], self.reapply())
        self.events.clear()
        self.assertEqual([current, older], self.reapply(force=True))
        self.assertEqual([current, older], self.applied_to())

    def test_a_member_reapplies_to_their_own_instances(self) -> None:
        own = self.instance(tenant_id='project-b')
        others = self.instance(tenant_id='project-a')
        self.new_contents()
        member = context.TroveContext(project_id='project-b',
                                      user_id='bob', is_admin=False)
        self.assertEqual([own], module_flows.reapply(
            member, self.module['id'], None, False, 10, 0, False))
        self.assertEqual([MD5_V2, MD5_V1], self.md5s(own, others))

    def test_only_the_md5_asked_for(self) -> None:
        at_v1 = self.instance(MD5_V1)
        at_other = self.instance(OTHER_MD5)
        self.new_contents()
        self.assertEqual([at_other], self.reapply(md5=OTHER_MD5))
        self.assertEqual([MD5_V1, MD5_V2], self.md5s(at_v1, at_other))

    def test_clustered_instances_only_when_asked(self) -> None:
        single = self.instance()
        clustered = self.instance(cluster_id=uuidutils.generate_uuid())
        self.new_contents()
        self.assertEqual([single], self.reapply())
        self.assertEqual([MD5_V1], self.md5s(clustered))
        self.assertEqual([clustered], self.reapply(include_clustered=True))
        self.assertEqual([MD5_V2], self.md5s(clustered))

    def test_guest_failures_keep_the_md5_and_add_a_fault(self) -> None:
        timed_out, refused, crashed, fine = [self.instance()
                                             for _ in range(4)]
        self.new_contents()
        self.guests.outcomes = {
            timed_out: exception.GuestTimeout(instance=timed_out,
                                              method='module_apply',
                                              timeout=5),
            refused: 'ERROR',
            crashed: oslo_messaging.RemoteError('RuntimeError', 'boom'),
        }
        self.assertEqual([fine], self.reapply(batch_size=2))
        self.assertEqual([timed_out, refused, crashed, fine],
                         self.applied_to())
        self.assertEqual([MD5_V1, MD5_V1, MD5_V1, MD5_V2],
                         self.md5s(timed_out, refused, crashed, fine))
        for instance_id, text in ((timed_out, 'module_apply'),
                                  (refused, 'ERROR'), (crashed, 'boom')):
            fault = self.fault(instance_id)
            self.assertIn('Reapplying module mod failed',
                          fault['message'])
            self.assertIn(text, fault['details'])
        self.assertIsNone(self.fault(fine))
        # The failed ones are picked up by the next reapply.
        self.guests.outcomes = {}
        self.assertEqual([timed_out, refused, crashed], self.reapply())

    def test_instances_not_ready_are_skipped(self) -> None:
        building = self.instance(ready=False)
        ready = self.instance()
        self.new_contents()
        self.assertEqual([ready], self.reapply())
        self.assertEqual([ready], self.applied_to())
        self.assertEqual([MD5_V1], self.md5s(building))
        self.assertIsNone(self.fault(building))

    def test_a_deleted_module_is_not_reapplied(self) -> None:
        self.instance()
        self.new_contents()
        db_modules.delete(self.context, self.module['id'])
        self.assertEqual([], self.reapply())
        self.assertEqual([], self.events)


class ModulePayloadsTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(module_key_file=self.useFixture(
            fixtures.TempDir()).join('module.key'))
        self.version = self.make_version()

    def test_payloads_of_ids_without_deleted_modules(self) -> None:
        kept = module_service.create(self.context, {
            'name': 'kept', 'module_type': 'ping', 'contents': V1,
            'datastore': {'type': 'mysql', 'version': '5.7.29'},
            'apply_order': 2, 'priority_apply': True})
        gone = module_service.create(self.context, {
            'name': 'gone', 'module_type': 'ping', 'contents': V2})
        db_modules.delete(self.context, gone['id'])
        # Ids as the create cast carries them, or as {'id': ...}.
        payloads = guest_tasks.module_payloads(self.context, [
            gone['id'], {'id': kept['id']}])
        self.assertEqual([kept['id']],
                         [payload['id'] for payload in payloads])
        payload = payloads[0]
        self.assertEqual(
            (V1, MD5_V1, 'ping', 'mysql', '5.7.29', 'all', 2, True),
            (payload['contents'], payload['md5'], payload['type'],
             payload['datastore'], payload['datastore_version'],
             payload['tenant'], payload['apply_order'],
             payload['priority_apply']))
