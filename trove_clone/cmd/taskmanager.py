"""trove-taskmanager: serves the taskmanager RPC topic."""
import sys

from trove_clone.common import config
from trove_clone.common import service
from trove_clone.taskmanager import manager


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-taskmanager')
    return service.serve('trove-taskmanager', conf.taskmanager_queue,
                         [manager.Manager()])


if __name__ == '__main__':
    sys.exit(main())
