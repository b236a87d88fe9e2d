"""The cluster flows: each member's tasks are scoped to it (its id and
request injected, what it provides renamed), and every flow's
requirements are met by its store."""
import taskflow.engines

from trove_clone.taskmanager.flows import cluster
from trove_clone.tests.unit import base


class ClusterFlowsTest(base.TestCase):

    def engine(self, flow, **store):
        store.update(context={}, cluster_id='c1')
        engine = taskflow.engines.load(flow, store=store)
        engine.compile()
        engine.prepare()
        engine.validate()
        return engine

    def test_every_flow_has_what_it_needs(self) -> None:
        members = [[1, 'i1', {'modules': []}], [2, 'i2', {'modules': []}]]
        self.engine(cluster.get_create_flow(members))
        self.engine(cluster.get_grow_flow([[3, 'i3', {}]]),
                    new_instance_ids=['i3'])
        self.engine(cluster.get_shrink_flow(['i1']), instance_ids=['i1'])
        self.engine(cluster.get_delete_flow(['i1', 'i2']))
        self.engine(cluster.get_upgrade_flow(['i1', 'i2']),
                    datastore_version_id='v2')

    def test_member_tasks_are_scoped(self) -> None:
        flow = cluster.get_create_flow([[1, 'i1', {'modules': ['m']}],
                                        [2, 'i2', {'modules': []}]])
        atoms = {}
        for item in flow.iter_nodes():
            stack = [item[0]]
            while stack:
                node = stack.pop()
                if hasattr(node, 'iter_nodes'):
                    stack.extend(child for child, _meta in node.iter_nodes())
                else:
                    atoms[node.name] = node
        self.assertIn('server#1', atoms)
        self.assertIn('server#2', atoms)
        self.assertEqual({'i1'}, {atoms['server#1'].inject['instance_id']})
        self.assertEqual({'modules': ['m']}, atoms['prepare#1'].inject[
            'request'])
        self.assertEqual({'server_id#2'}, set(atoms['server#2'].provides))
        self.assertEqual('volume_id#2',
                         atoms['server#2'].rebind['volume_id'])
