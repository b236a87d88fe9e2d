"""trove-guestagent: the agent inside one instance."""
import functools
import sys
import threading

from trove_clone.common import config
from trove_clone.common import service
from trove_clone.guestagent import manager
from trove_clone.guestagent import rpcapi


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-guestagent')
    if not conf.guest_id:
        print('trove-guestagent needs guest_id (the instance id) in its '
              'configuration.', file=sys.stderr)
        return 1
    agent = manager.Manager(conf.guest_id)

    def boot() -> None:
        threading.Thread(target=manager.boot, args=(agent,), name='boot',
                         daemon=True).start()

    heartbeat = service.Periodic(functools.partial(manager.report, agent),
                                 conf.agent_heartbeat_time)
    return service.serve('trove-guestagent', rpcapi.topic(conf.guest_id),
                         [manager.endpoint(agent)], server=conf.guest_id,
                         periodics=[heartbeat],
                         key=conf.instance_rpc_encr_key or None,
                         on_start=boot,
                         on_stop=functools.partial(manager.shutting_down,
                                                   agent))


if __name__ == '__main__':
    sys.exit(main())
