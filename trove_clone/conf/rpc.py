"""RPC topics (group DEFAULT). The transport options belong to
oslo.messaging and are registered by it."""
from oslo_config import cfg

rpc_opts = [
    cfg.StrOpt('taskmanager_queue', default='trove-taskmanager',
               help='RPC topic of the taskmanager.'),
    cfg.StrOpt('conductor_queue', default='trove-conductor',
               help='RPC topic of the conductor.'),
    cfg.StrOpt('guest_topic_prefix', default='guestagent',
               help='Guest agents listen on "<prefix>.<instance id>".'),
    cfg.FloatOpt('rpc_cast_timeout', default=5.0, min=0.1,
                 help='Seconds a cast (and the sending half of a call) may '
                      'take to be handed to the message broker. Past them '
                      'the request fails with 503 and what it started is '
                      'given back, instead of waiting for an unreachable '
                      'broker forever.'),
    cfg.StrOpt('guest_id',
               help='Instance id the guest agent serves. Written into the '
                    "guest's configuration at create time."),
    cfg.BoolOpt('enable_secure_rpc_messaging', default=True,
                help='Encrypt and authenticate guest RPC traffic with a key '
                     'of each instance, generated when it is created.'),
    cfg.StrOpt('inst_rpc_key_encr_key', secret=True,
               help="Secret that encrypts the instances' RPC keys in the "
                    'control database. Unset (the default): the key in '
                    'inst_rpc_key_file is used, generated at random by the '
                    'first trove-manage db_sync. Set it, or copy that file, '
                    'so that every trove-api, trove-taskmanager and '
                    'trove-conductor host uses the same key.'),
    cfg.StrOpt('inst_rpc_key_file',
               help='File holding the generated inst_rpc_key_encr_key '
                    '(mode 0600). Default: instance-rpc.key beside the '
                    'first --config-file.'),
    cfg.IntOpt('rpc_clock_skew', default=60, min=1,
               help='Seconds the clocks of the sender and the receiver of '
                    'a sealed RPC message may differ by; a message sent '
                    'further in the future, or older than its time to live '
                    'plus this, is refused.'),
    cfg.IntOpt('rpc_cast_ttl', default=900, min=1,
               help='Seconds a sealed cast may wait in its queue before it '
                    'is refused as stale (a call lives as long as its '
                    'timeout). Covers a guest agent that starts after its '
                    'prepare cast was sent.'),
    cfg.StrOpt('guest_transport_url', secret=True,
               help='Transport URL of the traffic with guest agents: a '
                    'RabbitMQ vhost and user of their own, whose '
                    'permissions are limited to guest and conductor '
                    'queues. Guests get this URL instead of transport_url, '
                    'the API and the taskmanager call guests on it and the '
                    'conductor listens on it too. Unset: transport_url.'),
    cfg.StrOpt('instance_rpc_encr_key', secret=True,
               help="The guest agent's own RPC key (written into its "
                    'configuration when the instance is created).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(rpc_opts)


def list_opts() -> list:
    return [('DEFAULT', rpc_opts)]
