"""The replication flows: promote, eject, detach and the replica
build's seeding step, with a recording guest; the order of the guest
calls is the contract of doc/replication-guest.md."""
import json

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.db import replication as db_replication
from trove_clone.taskmanager.flows import replication as flows
from trove_clone.taskmanager.tasks import replication as tasks
from trove_clone.tests.unit.taskmanager import test_tasks


def addresses(address: str) -> str:
    return json.dumps([{'address': address, 'type': 'private'}])


class ReplicationFlowTest(test_tasks.TaskTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.primary = self.instance_id
        db_instances.update(self.context, self.primary,
                            {'addresses': addresses('10.0.0.1')})
        self.first = self.make_instance(self.version, volume_size=2,
                                        slave_of_id=self.primary,
                                        addresses=addresses('10.0.0.2'))
        self.second = self.make_instance(self.version, volume_size=2,
                                         slave_of_id=self.primary,
                                         addresses=addresses('10.0.0.3'))
        self.members = [self.primary, self.first, self.second]
        self.guest.get_replica_context.side_effect = \
            lambda context, info: {'master': {'for': info['id']}}

    def take(self, task: statuses.Task) -> None:
        for member in self.members:
            db_instances.set_task(self.context, member, task)

    def tasks_of(self) -> list[str]:
        return [statuses.task(db_instances.get(
            self.context, member)['task_id']).name
            for member in self.members]

    def source(self, instance_id: str) -> str | None:
        return db_instances.get(self.context, instance_id)['slave_of_id']

    def names(self) -> list[str]:
        return [call[0] for call in self.guest.method_calls]

    def test_promote(self) -> None:
        self.take(statuses.PROMOTING)
        self.guest.get_latest_txn_id.return_value = 'txn-9'
        self.run_flow(flows.get_promote_flow(), instance_id=self.first)
        self.assertEqual(
            ['demote_replication_master', 'get_latest_txn_id',
             'wait_for_txn', 'enable_as_master',
             'get_replica_context', 'attach_replica',
             'get_replica_context', 'attach_replica',
             'cleanup_source_on_replica_detach',
             'cleanup_source_on_replica_detach'], self.names())
        self.guest.wait_for_txn.assert_called_once_with(
            self.guest.wait_for_txn.call_args.args[0], 'txn-9', timeout=60)
        attached = [call.args[1] for call in
                    self.guest.attach_replica.call_args_list]
        self.assertEqual([{'master': {'for': self.primary}},
                          {'master': {'for': self.second}}], attached)
        self.assertEqual((None, self.first, self.first), (
            self.source(self.first), self.source(self.primary),
            self.source(self.second)))
        self.assertEqual(['NONE'] * 3, self.tasks_of())
        self.assertIn('dbaas.instance_promote.end', self.notified)

    def test_a_replica_that_does_not_catch_up_gives_writes_back(
            self) -> None:
        self.take(statuses.PROMOTING)
        self.guest.wait_for_txn.side_effect = exception.GuestTimeout(
            instance=self.first, method='wait_for_txn', timeout=60)
        self.run_flow(flows.get_promote_flow(), instance_id=self.first)
        self.guest.make_read_only.assert_called_once_with(
            self.guest.make_read_only.call_args.args[0], False)
        self.guest.enable_as_master.assert_not_called()
        self.assertEqual(['NONE'] * 3, self.tasks_of())
        self.assertEqual(self.primary, self.source(self.first))
        fault = db_instances.get(self.context, self.first)['fault']
        self.assertIn('Promotion failed at step catch up', fault['message'])

    def test_a_failure_after_the_promotion_is_an_error(self) -> None:
        self.take(statuses.PROMOTING)
        self.guest.attach_replica.side_effect = exception.GuestTimeout(
            instance=self.primary, method='attach_replica', timeout=1)
        self.run_flow(flows.get_promote_flow(), instance_id=self.first)
        self.assertEqual(['PROMOTION_ERROR'] * 3, self.tasks_of())
        self.assertIn('step follow', db_instances.get(
            self.context, self.first)['fault']['message'])

    def test_eject_promotes_the_most_advanced(self) -> None:
        self.take(statuses.EJECTING)
        ranks = {self.first: 3, self.second: 7}
        calls = []

        def last_txn(context):
            return {'position': 'p', 'rank': ranks[calls.pop(0)]}
        calls.extend([self.first, self.second])
        self.guest.get_last_txn.side_effect = last_txn
        self.run_flow(flows.get_eject_flow(), instance_id=self.primary)
        self.assertEqual(['get_last_txn', 'get_last_txn',
                          'enable_as_master', 'get_replica_context',
                          'attach_replica'], self.names())
        self.assertEqual([{'master': {'for': self.first}}], [
            call.args[1] for call in
            self.guest.attach_replica.call_args_list])
        self.assertEqual((None, self.second, None), (
            self.source(self.second), self.source(self.first),
            self.source(self.primary)))
        self.assertEqual(['NONE'] * 3, self.tasks_of())
        self.assertIn('Ejected', db_instances.get(
            self.context, self.primary)['fault']['message'])
        self.assertEqual([self.first],
                         db_replication.replica_ids(self.context,
                                                    self.second))

    def test_eject_without_an_answering_replica(self) -> None:
        self.take(statuses.EJECTING)
        self.guest.get_last_txn.side_effect = exception.GuestTimeout(
            instance=self.first, method='get_last_txn', timeout=1)
        self.run_flow(flows.get_eject_flow(), instance_id=self.primary)
        self.guest.enable_as_master.assert_not_called()
        self.assertEqual(['NONE'] * 3, self.tasks_of())
        self.assertIn('no replica answered', db_instances.get(
            self.context, self.primary)['fault']['message'])

    def test_detach(self) -> None:
        db_instances.set_task(self.context, self.first, statuses.DETACHING)
        self.guest.detach_replica.return_value = {'replica_id': self.first,
                                                  'user': 'u'}
        self.run_flow(flows.get_detach_flow(), instance_id=self.first)
        self.assertEqual(['detach_replica',
                          'cleanup_source_on_replica_detach'], self.names())
        self.guest.cleanup_source_on_replica_detach.assert_called_once_with(
            self.guest.detach_replica.call_args.args[0],
            {'replica_id': self.first})
        self.assertIsNone(self.source(self.first))
        self.assertEqual('NONE', self.tasks_of()[1])
        self.assertEqual([self.second], db_replication.replica_ids(
            self.context, self.primary))

    def test_seed_and_allow_the_follower(self) -> None:
        db_instances.update(self.context, self.primary, {'access': json.dumps(
            {'is_public': False, 'allowed_cidrs': ['10.9.0.0/16']})})
        primary = db_instances.get(self.context, self.primary)
        follower = db_instances.get(self.context, self.first)
        old = tasks.allow_followers(self.context, primary, [follower])
        self.assertIsNotNone(old)
        self.guest.update_access.assert_called_once_with(
            self.context, ['10.9.0.0/16', '10.0.0.2/32'])
        self.assertEqual(['10.9.0.0/16', '10.0.0.2/32'], json.loads(
            db_instances.get(self.context, self.primary)['access'])[
                'allowed_cidrs'])
        # A follower already let in changes nothing.
        self.assertIsNone(tasks.allow_followers(
            self.context, db_instances.get(self.context, self.primary),
            [follower]))

    def test_seed_replica_prepares_from_the_snapshot(self) -> None:
        self.guest.backup_required_for_replication.return_value = False
        self.guest.get_replication_snapshot.return_value = {
            'master': {'password': 'secret'}}
        task = tasks.SeedReplica()
        self.assertIsNone(task.execute(self.ctx, self.first,
                                       {'replica_of': self.primary}, []))
        info = self.guest.get_replication_snapshot.call_args.args[1]
        self.assertEqual({'replica': {'id': self.first,
                                      'address': '10.0.0.2'}}, info)
        kwargs = self.guest.prepare.call_args.kwargs
        self.assertEqual({'master': {'password': 'secret'}},
                         kwargs['snapshot'])
        self.assertIsNone(kwargs['backup_info'])
        task.revert(self.ctx, self.first, {'replica_of': self.primary})
        self.assertEqual(
            {'replica_id': self.first},
            self.guest.cleanup_source_on_replica_detach.call_args.args[1])
