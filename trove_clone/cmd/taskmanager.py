"""trove-taskmanager: serves the taskmanager RPC topic."""
import sys

from trove_clone.common import config
from trove_clone.common import service
from trove_clone.taskmanager import flows
from trove_clone.taskmanager import manager


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-taskmanager')
    periodics = []
    if conf.server_watch_interval:
        periodics.append(service.Periodic(flows.watch_servers,
                                          conf.server_watch_interval))
    if conf.exists_notification_interval:
        periodics.append(service.Periodic(
            flows.notify_exists, conf.exists_notification_interval))
    return service.serve('trove-taskmanager', conf.taskmanager_queue,
                         [manager.endpoint(manager.Manager())],
                         periodics=periodics,
                         on_start=flows.recover)


if __name__ == '__main__':
    sys.exit(main())
