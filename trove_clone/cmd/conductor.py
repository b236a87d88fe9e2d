"""trove-conductor: serves the conductor RPC topic."""
import sys

from trove_clone.common import config
from trove_clone.common import service
from trove_clone.conductor import manager


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-conductor')
    return service.serve('trove-conductor', conf.conductor_queue,
                         [manager.Manager()], guests=True)


if __name__ == '__main__':
    sys.exit(main())
