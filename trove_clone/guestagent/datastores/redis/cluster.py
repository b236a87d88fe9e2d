"""Redis Cluster: members started with ``cluster-enabled yes`` (their
node table in ``<data_dir>/nodes.conf`` on the volume), introduced with
``CLUSTER MEET``, the 16384 hash slots spread evenly over the masters.

Members log in to each other as the ACL user ``os_cluster`` (every
permission; the cluster's secret as its password, the same on every
member and never the tenant's): a replica's ``masteruser``/
``masterauth``, ``MIGRATE ... AUTH2`` and the coordinator's connections
to the other members. The default user stays off, as on any instance.

A rebalance is run by one member (the coordinator) against all of them:
each slot moves with Redis's own protocol (``SETSLOT IMPORTING`` on the
receiver, ``MIGRATING`` on the giver, ``MIGRATE`` of its keys in
batches, then ``SETSLOT NODE`` on both), so clients follow ``ASK``/
``MOVED`` redirections and no write is lost. A member that leaves has
given its slots away first (weight 0); then it resets itself and the
others forget it. Joining copies the tenant's ACL users of the
coordinator to every member, so the same logins work everywhere.
"""
import time

from oslo_log import log as logging
import redis

from trove_clone.guestagent.capabilities import cluster
from trove_clone.guestagent.datastores.redis import lifecycle
from trove_clone.guestagent.datastores.redis import replication

LOG = logging.getLogger(__name__)

CLUSTER_USER = lifecycle.CLUSTER_USER
SLOTS = 16384
#: Keys moved per MIGRATE.
BATCH = 200
#: Slots moved per round of pipelined commands.
SLOT_BATCH = 256
#: How long members have to learn of each other (s).
CONVERGE_TIMEOUT = 60.0
MIGRATE_TIMEOUT_MS = 10000


def even_shares(count: int) -> list[int]:
    """How many slots each of ``count`` masters holds: even, the first
    ones one more."""
    share, extra = divmod(SLOTS, count)
    return [share + (1 if index < extra else 0) for index in range(count)]


def parse_nodes(text) -> list[dict]:
    """``CLUSTER NODES`` as ``{'id', 'address', 'port', 'flags',
    'master', 'slots'}`` (slots: a set of numbers; migrating markers
    left out)."""
    if isinstance(text, bytes):
        text = text.decode()
    nodes = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 8:
            continue
        endpoint = words[1].split('@')[0].split(',')[0]
        address, _, port = endpoint.rpartition(':')
        slots = set()
        for item in words[8:]:
            if item.startswith('['):
                continue
            low, _, high = item.partition('-')
            slots.update(range(int(low), int(high or low) + 1))
        nodes.append({'id': words[0], 'address': address,
                      'port': int(port or 0), 'flags': words[2].split(','),
                      'master': words[3], 'slots': slots})
    return nodes


def converged(nodes_text, count: int) -> bool:
    """Whether a member's ``CLUSTER NODES`` knows ``count`` members by
    their own ids: a node still in the handshake is listed under a
    made-up id (and counted in ``cluster_known_nodes``), so a SETSLOT
    naming its real id would be refused."""
    known = [node for node in parse_nodes(nodes_text)
             if not {'handshake', 'noaddr'} & set(node['flags'])]
    return len(known) >= count


def plan_moves(owners: dict[str, set], targets: dict[str, int]
               ) -> tuple[list, list]:
    """(slots to assign ``[(node, [slots])]``, moves ``[(slot, from,
    to)]``) that give each node of ``targets`` its count of slots.

    ``owners``: node id -> slots it holds (nodes absent from ``targets``
    keep none). Unassigned slots are assigned, not moved; a node keeps
    the slots it may keep (the fewest move).
    """
    held = {node: sorted(slots) for node, slots in owners.items()}
    assigned = set().union(*owners.values()) if owners else set()
    spare = []
    for node, slots in held.items():
        keep = targets.get(node, 0)
        spare.extend((slot, node) for slot in slots[keep:])
        held[node] = slots[:keep]
    free = [slot for slot in range(SLOTS) if slot not in assigned]
    assign, moves = [], []
    for node in sorted(targets):
        wanted = targets[node] - len(held.get(node, []))
        if wanted <= 0:
            continue
        taken_free, free = free[:wanted], free[wanted:]
        if taken_free:
            assign.append((node, taken_free))
        for slot, giver in spare[:wanted - len(taken_free)]:
            moves.append((slot, giver, node))
        spare = spare[wanted - len(taken_free):]
    return assign, moves


class RedisCluster(cluster.Cluster):

    engine: lifecycle.RedisLifecycle

    @property
    def secret(self) -> str:
        return self.state['secret']

    def _member_client(self, address: str, timeout: float = 15
                       ) -> redis.Redis:
        return redis.Redis(host=address, port=self.engine.port,
                           username=CLUSTER_USER, password=self.secret,
                           socket_timeout=timeout,
                           socket_connect_timeout=5)

    def _own(self, *args):
        client = self.engine.client(timeout=15)
        try:
            return client.execute_command(*args)
        except redis.RedisError as error:
            raise cluster.ClusterError(reason='Redis refused %s: %s' % (
                ' '.join(map(str, args[:2])), error)) from error
        finally:
            client.close()

    def _info(self, client) -> dict:
        text = client.execute_command('CLUSTER', 'INFO')
        if isinstance(text, bytes):
            text = text.decode()
        info = {}
        for line in text.splitlines():
            key, _, value = line.strip().partition(':')
            if key:
                info[key] = value
        return info

    # --- hooks ------------------------------------------------------------
    def _status(self) -> dict:
        client = self.engine.client(timeout=5)
        try:
            info = self._info(client)
            nodes = parse_nodes(client.execute_command('CLUSTER', 'NODES'))
        finally:
            client.close()
        me = next((node for node in nodes if 'myself' in node['flags']),
                  {'id': None})
        return {'state': info.get('cluster_state', 'unknown'),
                'members': int(info.get('cluster_known_nodes', 0)),
                'slots_assigned': int(info.get('cluster_slots_assigned',
                                               0)),
                'node': me['id'],
                'failing': [node['address'] for node in nodes
                            if 'fail' in node['flags'] or
                            'fail?' in node['flags']]}

    def _join(self, members: list) -> None:
        known = {node['address'] for node in self._nodes()}
        for member in members:
            if member['address'] not in known:
                self._own('CLUSTER', 'MEET', member['address'],
                          self.engine.port)
        self._copy_users(members)
        deadline = time.monotonic() + CONVERGE_TIMEOUT
        for member in members:
            client = self._member_client(member['address'])
            try:
                while not converged(client.execute_command('CLUSTER',
                                                           'NODES'),
                                    len(members)):
                    if time.monotonic() > deadline:
                        raise cluster.ClusterError(
                            reason='member %s did not learn of every '
                            'other member within %d s' % (
                                member['id'], CONVERGE_TIMEOUT))
                    time.sleep(0.05)
            finally:
                client.close()
        self._attach_replicas(members)

    def _copy_users(self, members: list) -> None:
        """The tenant's ACL users of this member, made on the others."""
        users = replication.tenant_acl(self._own('ACL', 'LIST'))
        if not users:
            return
        for member in members:
            if member['address'] == self.engine.address:
                continue
            client = self._member_client(member['address'])
            try:
                for line in users:
                    words = line.split()
                    client.execute_command('ACL', 'SETUSER', words[1],
                                           'reset', *words[2:])
                client.execute_command('ACL', 'SAVE')
            finally:
                client.close()

    def _attach_replicas(self, members: list) -> None:
        """Each ``replica`` member follows a master, round robin."""
        replicas = [one for one in members if one['role'] == 'replica']
        if not replicas:
            return
        nodes = self._nodes()
        masters = [one for one in members if one['role'] != 'replica']
        for index, member in enumerate(replicas):
            master = masters[index % len(masters)]
            client = self._member_client(member['address'])
            try:
                client.execute_command('CLUSTER', 'REPLICATE',
                                       self._node_of(nodes, master)['id'])
            finally:
                client.close()

    def _nodes(self) -> list[dict]:
        return parse_nodes(self._own('CLUSTER', 'NODES'))

    def _node_of(self, nodes: list, member: dict) -> dict:
        for node in nodes:
            if node['address'] == member['address']:
                return node
        raise cluster.ClusterError(reason='member %s (%s) is not in the '
                                   'cluster' % (member['id'],
                                                member['address']))

    def _rebalance(self, members: list) -> dict:
        nodes = self._nodes()
        masters = [one for one in members if one['role'] != 'replica']
        by_id = {}
        for member in masters:
            by_id[self._node_of(nodes, member)['id']] = member
        keeping = [node_id for node_id, member in by_id.items()
                   if member['weight']]
        targets = dict(zip(sorted(keeping), even_shares(len(keeping))))
        owners = {node['id']: node['slots'] for node in nodes
                  if node['slots']}
        assign, moves = plan_moves(owners, targets)
        for node_id, slots in assign:
            client = self._member_client(by_id[node_id]['address'])
            try:
                for start in range(0, len(slots), 1000):
                    client.execute_command('CLUSTER', 'ADDSLOTS',
                                           *slots[start:start + 1000])
            finally:
                client.close()
        moved_keys = 0
        clients = {node_id: self._member_client(member['address'], 30)
                   for node_id, member in by_id.items()}
        pairs: dict[tuple, list] = {}
        for slot, giver, taker in moves:
            pairs.setdefault((giver, taker), []).append(slot)
        try:
            for (giver, taker), slots in sorted(pairs.items()):
                for start in range(0, len(slots), SLOT_BATCH):
                    moved_keys += self._move_slots(
                        clients, by_id, slots[start:start + SLOT_BATCH],
                        giver, taker)
        finally:
            for client in clients.values():
                client.close()
        LOG.info('Rebalanced: %d slots assigned, %d moved with %d keys.',
                 sum(len(slots) for _node, slots in assign), len(moves),
                 moved_keys)
        return {'moved_slots': len(moves), 'moved_keys': moved_keys}

    @staticmethod
    def _each(client, commands: list) -> list:
        """Run ``commands`` in one round trip (no transaction); the first
        error is raised."""
        pipe = client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return pipe.execute()

    def _move_slots(self, clients: dict, by_id: dict, slots: list,
                    giver: str, taker: str) -> int:
        """Move ``slots`` from ``giver`` to ``taker`` with their keys;
        each step is one pipelined round trip for the whole batch."""
        source, target = clients[giver], clients[taker]
        self._each(target, [('CLUSTER', 'SETSLOT', slot, 'IMPORTING', giver)
                            for slot in slots])
        self._each(source, [('CLUSTER', 'SETSLOT', slot, 'MIGRATING', taker)
                            for slot in slots])
        moved = 0
        while True:
            found = self._each(source, [
                ('CLUSTER', 'GETKEYSINSLOT', slot, BATCH) for slot in slots])
            batches = [keys for keys in found if keys]
            if not batches:
                break
            # One MIGRATE per slot (keys of one slot only), pipelined.
            self._each(source, [(
                'MIGRATE', by_id[taker]['address'], self.engine.port, '', 0,
                MIGRATE_TIMEOUT_MS, 'AUTH2', CLUSTER_USER, self.secret,
                'KEYS', *keys) for keys in batches])
            moved += sum(len(keys) for keys in batches)
        # The taker first: once the giver lets go, clients go there.
        for client in [target, source] + [
                client for node_id, client in clients.items()
                if node_id not in (giver, taker)]:
            try:
                self._each(client, [('CLUSTER', 'SETSLOT', slot, 'NODE',
                                     taker) for slot in slots])
            except redis.RedisError as error:
                if client is target or (client is source and
                                        'only with masters' not in
                                        str(error)):
                    raise
                # A bystander learns it by gossip (the epochs decide); a
                # giver that learnt it already lost its last slot is a
                # replica now (Redis's replica migration).
        return moved

    def _leave(self) -> None:
        me = [node for node in self._nodes() if 'myself' in node['flags']]
        if me and me[0]['slots']:
            raise cluster.ClusterError(reason='this member still holds '
                                       'slots: rebalance them away first')
        # Redis made it a replica of the member that took its last slot
        # (replica migration): a reset empties it and makes it a lone
        # master that knows nobody.
        self._own('CLUSTER', 'RESET', 'HARD')

    def _forget(self, members: list) -> None:
        nodes = self._nodes()
        leaving = []
        for member in members:
            try:
                leaving.append(self._node_of(nodes, member)['id'])
            except cluster.ClusterError:
                continue
        staying = [node for node in nodes if node['id'] not in leaving]
        for node in staying:
            client = self._member_client(node['address'])
            try:
                for node_id in leaving:
                    try:
                        client.execute_command('CLUSTER', 'FORGET', node_id)
                    except redis.ResponseError as error:
                        if 'Unknown node' not in str(error):
                            raise
            finally:
                client.close()
