"""Point-in-time recovery: which datastore versions have it, what the
guest is told to ship, the recoverable window of an instance and the
checks of ``restorePoint.restore_time``.

A datastore version has point-in-time recovery when ``pitr_enabled``
names it (``<datastore>:<version name>`` or ``<datastore>:*``). Its full
backups carry ``pitr`` in their request to the guest, which then ships
the engine's logs continuously (guestagent/pitr.py) and marks the
backup's metadata ``pitr: true`` with its ``finished_at``. The window of
an instance runs from the oldest such base backup that is still kept to
``restorable_until``, the moment the guest last reported every commit
shipped (heartbeat ``pitr_until``).

A restore to ``restore_time`` T restores the newest such base backup
that finished at or before T, then replays the logs up to T (the
second: what was committed before T is there, what came at T or later
is not).
"""
import datetime
import math
import re

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances

#: The engines that ship logs.
MANAGERS = ('postgresql', 'mysql', 'mariadb')
#: restore_time: UTC, to the second (ISO 8601).
_TIME = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(Z|\+00:00)$')
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
#: How far in the guest's future a heartbeat's pitr_until may be (clock
#: skew between the guest and the control host is not trusted beyond).
SKEW = datetime.timedelta(seconds=2)


def enabled(version: dict) -> bool:
    """Whether the datastore version (with ``datastore_name``) has
    point-in-time recovery."""
    if version.get('manager') not in MANAGERS:
        return False
    for entry in CONF.pitr_enabled:
        datastore, _sep, name = entry.strip().partition(':')
        if datastore == version.get('datastore_name') and \
                name in ('*', version.get('name')):
            return True
    return False


def log_prefix(instance_id: str) -> str:
    """The name prefix of an instance's shipped logs in the container."""
    return 'pitr_%s_' % instance_id


def shipping(version: dict, instance_id: str, container: str,
             full: bool) -> dict | None:
    """What a full backup's request tells the guest to ship (None: no
    point-in-time recovery, or an incremental backup)."""
    if not full or not enabled(version):
        return None
    return {'container': container, 'prefix': log_prefix(instance_id),
            'interval': CONF.pitr_ship_interval}


def until_of(payload: dict, sent: float) -> datetime.datetime | None:
    """The ``pitr_until`` of a heartbeat as a naive UTC time (None: none,
    or not a time); never later than the heartbeat was sent."""
    until = payload.get('pitr_until')
    if isinstance(until, bool) or not isinstance(until, (int, float)) or \
            not math.isfinite(until) or until <= 0:
        return None
    until = min(float(until), float(sent))
    return datetime.datetime.fromtimestamp(
        until, datetime.timezone.utc).replace(tzinfo=None)


def _finished(row: dict) -> datetime.datetime | None:
    metadata = row.get('metadata') or {}
    if not metadata.get('pitr') or not metadata.get('finished_at'):
        return None
    try:
        return datetime.datetime.strptime(metadata['finished_at'],
                                          TIME_FORMAT)
    except (TypeError, ValueError):
        return None


def bases(context, instance_id: str) -> list[tuple[datetime.datetime,
                                                   dict]]:
    """The instance's kept base backups (COMPLETED, full, taken while
    shipping), oldest first, with their end."""
    found = []
    for row in db_backups.list_page(context, None, 100000,
                                    instance_id=instance_id):
        finished = _finished(row)
        if row['state'] == db_backups.COMPLETED and \
                not row['parent_id'] and finished is not None:
            found.append((finished, row))
    return sorted(found, key=lambda item: item[0])


def window(context, instance: dict) -> tuple[datetime.datetime | None,
                                             datetime.datetime | None]:
    """(restorable_from, restorable_until) of an instance; (None, None)
    when it cannot be restored to a moment."""
    until = instance.get('restorable_until')
    found = bases(context, instance['id'])
    if until is None or not found or found[0][0] > until:
        return None, None
    return found[0][0], until


def parse_time(text) -> datetime.datetime:
    """``restore_time`` as a naive UTC time.

    :raises BadRequest: naming restore_time, when not ISO 8601 UTC to
        the second
    """
    match = _TIME.match(text) if isinstance(text, str) else None
    if match:
        try:
            return datetime.datetime.strptime(match.group(1),
                                              '%Y-%m-%dT%H:%M:%S')
        except ValueError:
            pass
    raise exception.BadRequest(
        'restorePoint.restore_time %r is not a UTC time to the second in '
        'ISO 8601 (e.g. 2026-12-02T10:15:00Z).' % (text,))


def _text(moment: datetime.datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def check_restore_point(context, backup: dict, restore_time,
                        now: datetime.datetime) -> tuple[str, str]:
    """The base backup to restore and the target (text) of a restore of
    ``backup``'s instance to ``restore_time``.

    :param backup: the backup restorePoint.backupRef names (of the
        caller's project)
    :raises BadRequest: naming restore_time when it is malformed, in the
        future, or outside the recoverable window of the instance
    """
    target = parse_time(restore_time)
    if target > now:
        raise exception.BadRequest(
            'restorePoint.restore_time %s is in the future (it is %s).'
            % (_text(target), _text(now)))
    try:
        instance = db_instances.get(context, backup['instance_id'],
                                    deleted=True)
    except exception.InstanceNotFound:
        instance = {'id': backup['instance_id'], 'restorable_until': None}
    first, until = window(context, instance)
    if first is None:
        raise exception.BadRequest(
            'restorePoint.restore_time: instance %s of backup %s cannot be '
            'restored to a point in time (its datastore version has no '
            'point-in-time recovery, or no full backup was taken since it '
            'was enabled).' % (backup['instance_id'], backup['id']))
    if not first <= target <= until:
        raise exception.BadRequest(
            'restorePoint.restore_time %s is outside the recoverable window '
            'of instance %s: from %s to %s.' % (
                _text(target), backup['instance_id'], _text(first),
                _text(until)))
    base = [row for finished, row in bases(context, backup['instance_id'])
            if finished <= target][-1]
    return base['id'], _text(target)


def replay_info(context, backup_id: str, target: str) -> dict:
    """The ``pitr`` part of the guest's prepare of a restore to
    ``target`` from the base backup ``backup_id``."""
    row = db_backups.get(context, backup_id, deleted=True)
    shipped = (row['metadata'] or {}).get('pitr') or {}
    return {'target': target,
            'container': shipped.get('container') or
            CONF.backup_swift_container,
            'prefix': shipped.get('prefix') or
            log_prefix(row['instance_id'])}
