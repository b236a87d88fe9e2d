"""trove-conductor: serves the conductor RPC topic."""
import sys

from trove_clone.common import config
from trove_clone.common import service
from trove_clone.conductor import manager
from trove_clone.taskmanager import rpcapi as taskmanager_rpcapi


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-conductor')
    # The taskmanager caster of storage autogrow, made on its first use.
    conductor = manager.Manager(tasks=taskmanager_rpcapi.TaskManagerAPI)
    return service.serve('trove-conductor', conf.conductor_queue,
                         [conductor], guests=True)


if __name__ == '__main__':
    sys.exit(main())
