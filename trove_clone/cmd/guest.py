"""trove-guestagent: the agent inside one instance."""
import sys

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
    return service.serve('trove-guestagent', rpcapi.topic(conf.guest_id),
                         [manager.Manager(conf.guest_id)],
                         server=conf.guest_id)


if __name__ == '__main__':
    sys.exit(main())
