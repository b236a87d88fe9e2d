"""trove-taskmanager: serves the taskmanager RPC topic and runs flows."""
import sys

from trove_clone.common import config
from trove_clone.common import service
from trove_clone.taskmanager import jobs
from trove_clone.taskmanager import manager
from trove_clone.taskmanager import recovery
from trove_clone.taskmanager import schedules


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-taskmanager')
    periodics = []
    if conf.server_watch_interval:
        periodics.append(service.Periodic(recovery.watch_servers,
                                          conf.server_watch_interval))
    if conf.exists_notification_interval:
        periodics.append(service.Periodic(
            recovery.notify_exists, conf.exists_notification_interval))
    if conf.backup_schedule_interval:
        periodics.append(service.Periodic(schedules.run_backup_schedules,
                                          conf.backup_schedule_interval))
        periodics.append(service.Periodic(schedules.end_restore_drills,
                                          conf.backup_schedule_interval))
    periodics.append(service.Periodic(
        recovery.forget_finished_flows,
        max(60, min(conf.taskflow.finished_flow_keep, 3600))))
    try:
        return service.serve('trove-taskmanager', conf.taskmanager_queue,
                             [manager.endpoint(manager.Manager())],
                             periodics=periodics, on_start=recovery.start)
    finally:
        jobs.stop()


if __name__ == '__main__':
    sys.exit(main())
