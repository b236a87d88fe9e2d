"""The update_access flow: the guest's CIDRs, the server's access, the
record, the task back to NONE; a failure gives the guest and the server
their old access back, keeps the old record and leaves a fault."""
import json

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager.flows import access as access_flow
from trove_clone.tests.unit.taskmanager import test_tasks

OLD = {'is_public': True, 'allowed_cidrs': ['10.0.0.0/8']}
NEW = {'is_public': False, 'allowed_cidrs': ['192.168.0.0/16']}


class UpdateAccessFlowTest(test_tasks.TaskTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.cloud.servers['server-1'] = {'id': 'server-1'}
        db_instances.update(self.context, self.instance_id, {
            'server_id': 'server-1', 'access': json.dumps(OLD)})
        db_instances.set_task(self.context, self.instance_id,
                              statuses.UPDATING)

    def run_access_flow(self) -> list:
        return self.run_flow(access_flow.get_flow(), old_access=OLD,
                             new_access=NEW)

    def test_success_records_and_ends_the_task(self) -> None:
        self.run_access_flow()
        self.assertEqual([['192.168.0.0/16']], self.guest_cidrs())
        # The mysql manager's engine listens on 3306.
        self.assertEqual([('compute', 'update_access', 'server-1', False,
                           ('192.168.0.0/16',), (3306,))],
                         self.cloud.calls)
        row = self.row()
        self.assertEqual(NEW, json.loads(row['access']))
        self.assertEqual(statuses.NONE.code, row['task_id'])
        self.assertIsNone(row.get('fault'))

    def test_a_refused_cloud_gives_everything_back(self) -> None:
        self.cloud.fail.add(('compute', 'update_access'))
        self.run_access_flow()
        # The guest got the new CIDRs, then the old ones back.
        self.assertEqual([['192.168.0.0/16'], ['10.0.0.0/8']],
                         self.guest_cidrs())
        row = self.row()
        self.assertEqual(OLD, json.loads(row['access']))
        self.assertEqual(statuses.NONE.code, row['task_id'])
        self.assertIn('Updating the access failed at step server access: '
                      'compute update_access refused',
                      row['fault']['message'])

    def test_a_refusing_guest_changes_nothing(self) -> None:
        self.guest.update_access.side_effect = [
            exception.GuestEngineError('The engine does not listen'), None]
        self.run_access_flow()
        self.assertEqual([], self.cloud.calls)
        row = self.row()
        self.assertEqual(OLD, json.loads(row['access']))
        self.assertEqual(statuses.NONE.code, row['task_id'])
        self.assertIn('step guest access', row['fault']['message'])
        self.assertIn('does not listen', row['fault']['message'])

    def guest_cidrs(self) -> list:
        """The CIDRs of each update_access sent to the guest."""
        return [call.args[1]
                for call in self.guest.update_access.call_args_list]
