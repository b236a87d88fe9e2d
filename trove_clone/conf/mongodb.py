"""MongoDB clusters (group ``[mongodb]``, Trove's names): the shape
services/cluster_topology.py plans. The counts are validated when a
service starts (:func:`validate`), not at the first cluster create."""
from oslo_config import cfg

mongodb_group = cfg.OptGroup(
    'mongodb', title='MongoDB clusters',
    help='The shape of MongoDB clusters: query routers and config '
         'servers count against the instance quota and are deleted with '
         'their cluster.')

mongodb_opts = [
    cfg.IntOpt('num_config_servers_per_cluster', default=1, choices=[
        (1, 'one config server (no redundancy)'),
        (3, 'a replica set of three config servers')],
        help='Config servers made for each MongoDB cluster.'),
    cfg.IntOpt('num_query_routers_per_cluster', default=1, choices=[
        (1, 'one mongos'), (3, 'three mongos')],
        help='Query routers (mongos) made for each MongoDB cluster.'),
    cfg.IntOpt('members_per_shard', default=3, min=1, max=7,
               help='Members of each shard (a replica set; MongoDB has '
                    'at most 7 voting members). Every cluster create and '
                    'add_shard gives this many instances per shard.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(mongodb_group)
    conf.register_opts(mongodb_opts, group=mongodb_group)


def list_opts() -> list:
    return [(mongodb_group, mongodb_opts)]


def validate(conf: cfg.ConfigOpts) -> None:
    """Read every ``[mongodb]`` option, so that a value the choices
    refuse stops the service at start-up.

    :raises cfg.ConfigFileValueError: naming the option and its value
    """
    for opt in mongodb_opts:
        getattr(conf.mongodb, opt.dest)
