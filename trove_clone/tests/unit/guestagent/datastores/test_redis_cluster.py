"""Redis Cluster's pure parts: slot plans, CLUSTER NODES parsing, the
ACL file of a member and its rendered settings; the capability's
argument checks."""
from trove_clone.common import exception
from trove_clone.guestagent.capabilities import cluster as capability
from trove_clone.guestagent.datastores.redis import cluster
from trove_clone.guestagent.datastores.redis import lifecycle
from trove_clone.tests.unit import base

NODES = (
    'aaa 127.0.0.2:6379@16379 myself,master - 0 0 1 connected 0-5460\n'
    'bbb 127.0.0.3:6379@16379 master - 0 1 2 connected 5461-10922 '
    '[10923->-ccc]\n'
    'ccc 127.0.0.4:6379@16379,host master - 0 1 3 connected 10923-16383\n'
    'ddd 127.0.0.5:6379@16379 master - 0 1 0 connected\n')


class SlotPlanTest(base.TestCase):

    def test_even_shares(self) -> None:
        self.assertEqual([5462, 5461, 5461], cluster.even_shares(3))
        self.assertEqual(16384, sum(cluster.even_shares(7)))

    def test_create_assigns_every_slot(self) -> None:
        assign, moves = cluster.plan_moves(
            {}, dict(zip('abc', cluster.even_shares(3))))
        self.assertEqual([], moves)
        slots = [slot for _node, part in assign for slot in part]
        self.assertEqual(list(range(16384)), sorted(slots))

    def test_grow_moves_the_fewest(self) -> None:
        owners = {node['id']: node['slots'] for node in
                  cluster.parse_nodes(NODES) if node['slots']}
        targets = dict(zip(['aaa', 'bbb', 'ccc', 'ddd'],
                           cluster.even_shares(4)))
        assign, moves = cluster.plan_moves(owners, targets)
        self.assertEqual([], assign)
        self.assertEqual(4096, len(moves))
        self.assertEqual({'ddd'}, {taker for _s, _g, taker in moves})
        after = {node: set(slots) for node, slots in owners.items()}
        after['ddd'] = set()
        for slot, giver, taker in moves:
            after[giver].remove(slot)
            after[taker].add(slot)
        self.assertEqual(sorted(targets.values()),
                         sorted(len(slots) for slots in after.values()))

    def test_shrink_empties_the_leaver(self) -> None:
        owners = {node['id']: node['slots'] for node in
                  cluster.parse_nodes(NODES) if node['slots']}
        assign, moves = cluster.plan_moves(
            owners, dict(zip(['bbb', 'ccc'], cluster.even_shares(2))))
        self.assertEqual([], assign)
        self.assertEqual(set(range(5461)), {slot for slot, giver, _t in
                                            moves if giver == 'aaa'})
        self.assertEqual(5461, len(moves))

    def test_parse_nodes(self) -> None:
        nodes = cluster.parse_nodes(NODES.encode())
        self.assertEqual(['aaa', 'bbb', 'ccc', 'ddd'],
                         [node['id'] for node in nodes])
        self.assertEqual(('127.0.0.4', 6379), (nodes[2]['address'],
                                               nodes[2]['port']))
        self.assertIn('myself', nodes[0]['flags'])
        self.assertEqual(5462, len(nodes[1]['slots']))
        self.assertEqual(set(), nodes[3]['slots'])

    def test_converged_ignores_nodes_in_the_handshake(self) -> None:
        self.assertTrue(cluster.converged(NODES, 4))
        self.assertFalse(cluster.converged(NODES, 5))
        # Right after CLUSTER MEET the new node is listed under a made-up
        # id: SETSLOT with its real id would be refused, so not yet.
        meeting = NODES + ('eee 127.0.0.6:6379@16379 handshake - 0 0 0 '
                           'connected\n')
        self.assertFalse(cluster.converged(meeting, 5))
        self.assertTrue(cluster.converged(
            meeting.replace('handshake', 'master'), 5))


class MemberSettingsTest(base.TestCase):

    def test_acl_has_the_cluster_user_only_on_members(self) -> None:
        text = 'user alice on #abc ~* +@all\nuser os_cluster on #old\n'
        plain = lifecycle.secured_acl(text, 'agent-pw')
        self.assertNotIn('os_cluster', plain)
        self.assertIn('user alice on #abc ~* +@all', plain)
        member = lifecycle.secured_acl(text, 'agent-pw', 'cluster-pw')
        lines = member.splitlines()
        self.assertTrue(lines[0].startswith('user default off'))
        self.assertEqual(1, sum(line.startswith('user os_cluster ')
                                for line in lines))
        self.assertNotIn('cluster-pw', member)
        self.assertNotIn('#old', member)

    def test_member_arguments_are_checked(self) -> None:
        for bad in ([], 'x', [{'id': 1, 'address': 'a'}],
                    [{'id': 'a', 'address': '127.0.0.1', 'weight': -1}]):
            self.assertRaises(exception.BadRequest,
                              capability.check_members, bad)
        self.assertEqual([{'id': 'a', 'address': '127.0.0.1',
                           'role': 'member', 'weight': 1}],
                         capability.check_members(
                             [{'id': 'a', 'address': '127.0.0.1'}]))
