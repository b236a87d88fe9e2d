"""Pure rules of cluster shapes: Galera's quorum, MongoDB's topology.

Nothing here does I/O or imports the API, the taskmanager or the guest:
the API calls these to refuse a request with a 400 before anything is
made, the flows to know what to make.

Galera (doc/clusters-galera.md)
  A Galera cluster keeps serving while more than half of its members
  (by weight) see each other. :func:`check_galera_size` refuses a
  cluster of fewer than :data:`GALERA_MIN_MEMBERS` members;
  :func:`check_galera_shrink` refuses a shrink that leaves fewer, or an
  even number without an arbitrator (two halves of an even cluster that
  lose sight of each other both stop taking writes).

MongoDB (seed 000)
  A cluster is one or more shards (replica sets of
  ``members_per_shard`` members), ``num_config_servers_per_cluster``
  config servers and ``num_query_routers_per_cluster`` query routers
  (``[mongodb]``, 1 or 3 each). Routers and config servers count against
  the instance quota and are deleted with the cluster:
  :func:`plan_mongodb_cluster`, :func:`plan_mongodb_add_shard`.
"""
import dataclasses
from typing import Iterable

from trove_clone.common import exception

#: The fewest members a Galera cluster may have.
GALERA_MIN_MEMBERS = 3
#: The roles of a MongoDB cluster's members.
SHARD_MEMBER = 'member'
CONFIG_SERVER = 'config_server'
QUERY_ROUTER = 'query_router'
#: What ``[mongodb] num_*_per_cluster`` may be.
MONGODB_ROUTER_COUNTS = (1, 3)


class TopologyError(exception.BadRequest):
    """The cluster's shape is refused; the message says what to change
    (400)."""

    message_template = '%(reason)s'


# --- Galera --------------------------------------------------------------

def check_galera_size(count: int) -> None:
    """Refuse a Galera cluster of fewer than :data:`GALERA_MIN_MEMBERS`
    members (create).

    :raises TopologyError: naming the count and the minimum
    """
    if count < GALERA_MIN_MEMBERS:
        raise TopologyError(reason=(
            'A Galera cluster needs at least %d instances (%d asked): with '
            'fewer, the loss of one member stops the cluster.'
            % (GALERA_MIN_MEMBERS, count)))


def check_galera_shrink(current: int, removed: int,
                        arbitrator: bool = False) -> int:
    """Whether removing ``removed`` of ``current`` members keeps a
    quorum that survives the loss of one; returns the count left.

    :param arbitrator: the cluster has a Galera arbitrator (garbd), a
        vote without data that breaks ties
    :raises TopologyError: nothing removed, all removed, fewer than
        :data:`GALERA_MIN_MEMBERS` left, or an even count left without
        an arbitrator
    """
    if removed < 1:
        raise TopologyError(reason='A shrink must remove at least one '
                                   'instance.')
    left = current - removed
    if left < GALERA_MIN_MEMBERS:
        raise TopologyError(reason=(
            'Shrinking this Galera cluster from %d to %d instances is '
            'refused: at least %d must stay so that it keeps a quorum '
            'when one fails.' % (current, left, GALERA_MIN_MEMBERS)))
    if left % 2 == 0 and not arbitrator:
        raise TopologyError(reason=(
            'Shrinking this Galera cluster from %d to %d instances is '
            'refused: with an even count and no arbitrator, a split into '
            'two halves stops both. Remove %d or %d instances instead.'
            % (current, left, removed - 1 if removed > 1 else removed + 1,
               removed + 1)))
    return left


def most_advanced(positions: dict) -> str:
    """The Galera member to restart a stopped cluster from, given each
    member's ``cluster_recovery_position`` (member id → ``{'uuid',
    'seqno', 'safe_to_bootstrap'}``; None for a member that did not
    answer).

    Only members of the history (``uuid``) most of them share count: one
    from another history would throw the others' data away. Among them
    the highest ``seqno`` wins; on a tie the one Galera marked
    ``safe_to_bootstrap`` (the last to leave), then the smallest id, so
    that every caller picks the same.

    :raises TopologyError: no member has a known position
    """
    known = {member: position for member, position in positions.items()
             if position and position.get('uuid') and
             isinstance(position.get('seqno'), int) and
             position['seqno'] >= 0}
    if not known:
        raise TopologyError(reason=(
            'No member of the cluster has a known position to restart it '
            'from (asked: %s).' % ', '.join(sorted(positions))))
    histories: dict = {}
    for position in known.values():
        histories[position['uuid']] = histories.get(position['uuid'], 0) + 1
    uuid = max(sorted(histories), key=lambda key: histories[key])
    return min((-position['seqno'], not position.get('safe_to_bootstrap'),
                member) for member, position in known.items()
               if position['uuid'] == uuid)[2]


# --- MongoDB -------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PlannedMember:
    """One instance a cluster plan makes.

    :param name: ``<cluster>-<role>-N`` (shard members:
        ``<cluster>-<shard>-N``)
    :param role: :data:`SHARD_MEMBER`, :data:`CONFIG_SERVER` or
        :data:`QUERY_ROUTER`
    :param shard: the shard (replica set) a member belongs to, None for
        routers and config servers
    :param flavor_id, volume_size: what it is made with
    """
    name: str
    role: str
    shard: str | None
    flavor_id: str
    volume_size: int | None


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a cluster request makes and what it costs in quota."""
    members: tuple[PlannedMember, ...]

    @property
    def instance_count(self) -> int:
        """Instances against the quota: every member, router and config
        server."""
        return len(self.members)

    @property
    def volume_gb(self) -> int:
        return sum(member.volume_size or 0 for member in self.members)

    def of_role(self, role: str) -> list[PlannedMember]:
        return [member for member in self.members if member.role == role]


def check_router_count(name: str, value: int) -> int:
    """``value`` when it is one of :data:`MONGODB_ROUTER_COUNTS`.

    :raises TopologyError: naming the option
    """
    if value not in MONGODB_ROUTER_COUNTS:
        raise TopologyError(reason='[mongodb] %s must be 1 or 3, not %r'
                                   % (name, value))
    return value


def _require_mongodb_version(datastore_version: dict | None) -> dict:
    """The registered MongoDB version, with an image.

    :raises TopologyError: naming what the operator must register
    """
    if not datastore_version:
        raise TopologyError(reason=(
            'No MongoDB datastore version is registered: an operator must '
            'register a MongoDB guest image and a datastore version '
            '(trove-manage datastore_version_update mongodb ...) before '
            'MongoDB clusters can be created.'))
    if not datastore_version.get('image_id') and \
            not datastore_version.get('image_tags'):
        raise TopologyError(reason=(
            'The MongoDB datastore version %s has no guest image: an '
            'operator must register one (its image id or tags).'
            % datastore_version.get('name')))
    return datastore_version


def _instance_specs(instances) -> list[dict]:
    if not isinstance(instances, list) or not instances:
        raise TopologyError(reason='instances must be a non-empty list')
    specs = []
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict) or \
                not instance.get('flavor_id'):
            raise TopologyError(reason='instances[%d] needs a flavorRef'
                                       % index)
        specs.append(instance)
    return specs


def _shard(cluster_name: str, shard: str, specs: list[dict],
           members_per_shard: int) -> list[PlannedMember]:
    if len(specs) != members_per_shard:
        raise TopologyError(reason=(
            'A MongoDB shard has %d members ([mongodb] '
            'members_per_shard): %d instances were given.'
            % (members_per_shard, len(specs))))
    flavors = {(spec['flavor_id'], spec.get('volume_size'))
               for spec in specs}
    if len(flavors) > 1:
        raise TopologyError(reason='The members of a MongoDB shard must '
                                   'all have the same flavor and volume '
                                   'size.')
    return [PlannedMember('%s-%s-%d' % (cluster_name, shard, number),
                          SHARD_MEMBER, shard, spec['flavor_id'],
                          spec.get('volume_size'))
            for number, spec in enumerate(specs, 1)]


def plan_mongodb_cluster(cluster_name: str, instances: list,
                         datastore_version: dict | None,
                         config_servers: int, query_routers: int,
                         members_per_shard: int) -> Plan:
    """The members of a new MongoDB cluster: the first shard (``rs1``)
    from ``instances`` (``{'flavor_id', 'volume_size'}`` each, as many
    as ``members_per_shard``), then the config servers and the query
    routers, made with the first instance's flavor and volume.

    :param datastore_version: the registered MongoDB version (``name``,
        ``image_id`` or ``image_tags``), None when there is none
    :raises TopologyError: (400) no MongoDB image or version is
        registered, the counts are not 1 or 3, or the instances do not
        make a shard
    """
    _require_mongodb_version(datastore_version)
    check_router_count('num_config_servers_per_cluster', config_servers)
    check_router_count('num_query_routers_per_cluster', query_routers)
    specs = _instance_specs(instances)
    members = _shard(cluster_name, 'rs1', specs, members_per_shard)
    first = specs[0]
    for role, count, label in ((CONFIG_SERVER, config_servers, 'configsvr'),
                               (QUERY_ROUTER, query_routers, 'mongos')):
        members.extend(PlannedMember(
            '%s-%s-%d' % (cluster_name, label, number), role, None,
            first['flavor_id'], first.get('volume_size'))
            for number in range(1, count + 1))
    return Plan(tuple(members))


def next_shard_name(existing: Iterable[PlannedMember]) -> str:
    """``rsN``: one more than the highest shard of ``existing``."""
    numbers = [int(member.shard[2:]) for member in existing
               if member.shard and member.shard[2:].isdigit()]
    return 'rs%d' % (max(numbers, default=0) + 1)


def plan_mongodb_add_shard(cluster_name: str, existing: list,
                           instances: list | None,
                           members_per_shard: int) -> Plan:
    """The members ``add_shard`` makes: a new shard of
    ``members_per_shard`` members, by default with the flavor and volume
    of the cluster's first shard; no router or config server (the
    existing ones serve it).

    :param existing: the cluster's members (:class:`PlannedMember`)
    :raises TopologyError: the cluster has no shard, or ``instances``
        does not make one
    """
    first = [member for member in existing if member.role == SHARD_MEMBER]
    if not first:
        raise TopologyError(reason='The cluster has no shard to copy the '
                                   'shape of.')
    if not instances:
        instances = [{'flavor_id': first[0].flavor_id,
                      'volume_size': first[0].volume_size}] * \
            members_per_shard
    specs = _instance_specs(instances)
    return Plan(tuple(_shard(cluster_name, next_shard_name(existing),
                             specs, members_per_shard)))


def deleted_with_cluster(members: Iterable[PlannedMember]
                         ) -> list[PlannedMember]:
    """Every instance a cluster delete removes: its shard members and
    its routers and config servers alike."""
    return list(members)


def plan_mongodb_cluster_from_conf(conf, cluster_name: str, instances: list,
                                   datastore_version: dict | None) -> Plan:
    """:func:`plan_mongodb_cluster` with the counts of ``conf``'s
    ``[mongodb]`` (trove_clone.conf.mongodb)."""
    return plan_mongodb_cluster(
        cluster_name, instances, datastore_version,
        conf.mongodb.num_config_servers_per_cluster,
        conf.mongodb.num_query_routers_per_cluster,
        conf.mongodb.members_per_shard)
