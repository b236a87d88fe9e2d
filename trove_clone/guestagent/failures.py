"""Why an engine stopped, in words a user can act on.

When the engine exits without being asked to, or does not start, the
agent reports a fault (a ``message`` and its ``details``) with its
heartbeats; the conductor records it as the instance's fault and clears it
once the engine is healthy again. The details carry the engine's last log
lines. When the data volume is (nearly) full, or the engine's log says it
ran out of space, the fault says the volume is full and how to grow it.
An engine that still runs on a full volume, its writes failing or waiting
(:func:`describe_full_volume`), is reported the same way.
"""
import signal

from trove_clone.common import statuses

#: From this use of the data volume (percent) on, a stopped engine is put
#: down to a full volume whatever its log says.
FULL_PERCENT = 95.0
#: From this use on, a log that mentions running out of space is taken to
#: be about the data volume.
NEARLY_FULL_PERCENT = 80.0
#: What the engines write when a write fails for want of space: the
#: errno's text (PostgreSQL, Redis, MariaDB's own messages), MariaDB's
#: "error 28" / "Errcode: 28" / "errno: 28", InnoDB's and Aria's words.
OUT_OF_SPACE_MARKERS = ('no space left on device', 'error 28',
                        'errcode: 28', 'errno: 28', 'errno 28', 'disk full',
                        'disk is full', 'enospc', 'out of disk space')
GROW_COMMANDS = ('openstack database instance resize volume %(id)s '
                 '<size in GB>', 'trove resize-volume %(id)s <size in GB>')


def mentions_no_space(lines: list[str]) -> bool:
    """Whether the log ``lines`` say a write failed for want of space."""
    text = '\n'.join(lines).lower()
    return any(marker in text for marker in OUT_OF_SPACE_MARKERS)


def volume_is_full(used_percent: float | None, lines: list[str]) -> bool:
    """Whether a stopped engine is put down to a full data volume."""
    if used_percent is None:
        return False
    return used_percent >= FULL_PERCENT or (
        used_percent >= NEARLY_FULL_PERCENT and mentions_no_space(lines))


def describe_full_volume(instance_id: str, manager: str,
                         log_lines: list[str], used_percent: float,
                         log_path: str = '') -> dict | None:
    """The fault of an engine that runs on a full volume: its writes fail
    or wait (a MariaDB waits in its binary log for someone to free space).
    None unless the volume is FULL_PERCENT used and the engine's log says
    a write failed for want of space."""
    if used_percent < FULL_PERCENT or not mentions_no_space(log_lines):
        return None
    message = ('%s: the database cannot write (no space left on device). '
               'Grow the volume: %s.' % (
                   statuses.VOLUME_FULL_FAULT_PREFIX,
                   GROW_COMMANDS[0] % {'id': instance_id}))
    head = ['The %s engine runs but its writes fail or wait: its data '
            'volume is %.0f%% full, no space left on device.'
            % (manager, used_percent),
            'Grow the volume:'] + [
        '  ' + command % {'id': instance_id} for command in GROW_COMMANDS]
    return {'message': message[:255],
            'details': '\n'.join(head + _log_part(log_lines, log_path))}


def _log_part(log_lines: list[str], log_path: str) -> list[str]:
    return ['Last lines of the engine log%s:' % (
        ' (%s)' % log_path if log_path else '')] + (
        log_lines or ['(the log is empty or cannot be read)'])


def exit_words(returncode: int | None) -> str:
    """``exited with status 1``, ``was killed by signal 6 (SIGABRT)``, or
    ``did not start`` (no exit status)."""
    if returncode is None:
        return 'did not start'
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = 'an unknown signal'
        return 'was killed by signal %d (%s)' % (-returncode, name)
    return 'exited with status %d' % returncode


def describe(instance_id: str, manager: str, returncode: int | None,
             log_lines: list[str], used_percent: float | None,
             log_path: str = '') -> dict:
    """The fault of an engine that stopped: ``{'message', 'details'}``.

    :param returncode: the engine's exit status (negative: the signal that
        killed it), None when it did not start
    :param log_lines: the engine's last log lines
    :param used_percent: how full the data volume is (None: unknown)
    """
    what = 'The %s engine %s' % (manager, exit_words(returncode))
    if volume_is_full(used_percent, log_lines):
        message = ('%s: its data volume is full (no space left on '
                   'device). Grow the volume: %s.' % (
                       statuses.ENGINE_FAULT_PREFIX,
                       GROW_COMMANDS[0] % {'id': instance_id}))
        head = [
            '%s: its data volume is %.0f%% full, no space left on device.'
            % (what, used_percent),
            'Grow the volume, and the database starts again:',
        ] + ['  ' + command % {'id': instance_id}
             for command in GROW_COMMANDS]
    else:
        message = '%s unexpectedly (%s); see its log in the details.' % (
            statuses.ENGINE_FAULT_PREFIX, exit_words(returncode))
        head = ['%s.' % what]
        if used_percent is not None:
            head.append('Its data volume is %.0f%% full.' % used_percent)
    return {'message': message[:255],
            'details': '\n'.join(head + _log_part(log_lines, log_path))}
