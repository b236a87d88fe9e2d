"""Business rules of guest logs (Trove's log API): which logs a caller
sees, what the guest gets with each request.

The guest shows and acts on its engine's logs
(guestagent/capabilities/logs.py); trove-api adds what only the control
host knows: the object store of the project (the same storage options a
backup gets: the user's token and the project's account, never more),
the settings of ``[DEFAULT] guest_log_*``, and whether the caller is an
administrator. SYS logs are an administrator's: a member's list leaves
them out and the guest refuses a member's request on one (403).
"""
from typing import Protocol

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.services import backups as backup_service

SYS = 'SYS'
ACTIONS = ('enable', 'disable', 'publish', 'discard')


class Guest(Protocol):
    """What this module asks of an instance's guest agent."""

    def guest_log_list(self, context, request: dict) -> list: ...

    def guest_log_action(self, context, request: dict, log_name: str,
                         enable: bool = False, disable: bool = False,
                         publish: bool = False,
                         discard: bool = False) -> dict: ...


def log_request(context) -> dict:
    """What the guest needs besides the action (capabilities/logs.py)."""
    storage = None
    if CONF.storage_strategy == 'swift':
        storage = backup_service.backup_storage_options(context)
    return {'storage': storage,
            'container': CONF.guest_log_container_name,
            'limit': CONF.guest_log_limit,
            'expiry': CONF.guest_log_expiry,
            'long_query_ms': CONF.guest_log_long_query_time,
            'admin': bool(context.is_admin)}


def visible(context, log: dict) -> bool:
    """Whether the caller may see ``log``: SYS logs are admins'."""
    return bool(context.is_admin) or log.get('type') != SYS


def list_logs(context, guest: Guest) -> list[dict]:
    """The logs of the instance the caller may see."""
    return [log for log in guest.guest_log_list(context, log_request(context))
            if visible(context, log)]


def act(context, guest: Guest, body: dict) -> dict:
    """Trove's guest_log_action: ``body`` is the validated request.

    :raises: BadRequest (enable and disable together), GuestLogNotFound,
        LogAccessForbidden, LogsNotAvailable, LogStorageUnavailable
    """
    flags = {action: bool(body.get(action)) for action in ACTIONS}
    if flags['enable'] and flags['disable']:
        raise exception.BadRequest(
            'Cannot enable and disable log %s: give enable or disable, '
            'not both.' % body['name'])
    if (flags['publish'] or flags['discard']) and \
            CONF.storage_strategy != 'swift':
        raise exception.LogsNotAvailable(
            reason='publishing needs an object store (storage_strategy = '
                   'swift); this deployment has none.')
    return guest.guest_log_action(context, log_request(context),
                                  body['name'], **flags)
