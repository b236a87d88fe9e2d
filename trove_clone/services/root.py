"""The root user of an instance: enabled and disabled by its guest, the
first enabling remembered in the control database (Trove's root-enabled
history, which mgmt show reports and root delete requires)."""
from typing import Protocol

from trove_clone.common import exception
from trove_clone.db import instances as db_instances


class RootGuest(Protocol):
    """The root calls of an instance's guest agent."""

    def enable_root(self, context, password: str | None) -> dict: ...

    def disable_root(self, context) -> None: ...


def enable(context, row: dict, password: str | None,
           guest: RootGuest) -> dict:
    """Have the guest enable root (with ``password``, or one it makes up)
    and remember who first did; returns ``{'name', 'password'}``."""
    user = guest.enable_root(context, password)
    db_instances.record_root_enabled(context, row['id'],
                                     context.user_id or '')
    return {'name': user['name'], 'password': user['password']}


def disable(context, row: dict, guest: RootGuest) -> None:
    """Have the guest disable root.

    :raises: NotFound (404) when root was never enabled on the instance
    """
    if row.get('root_history') is None:
        raise exception.NotFound('Root was never enabled on instance %s.'
                                 % row['id'])
    guest.disable_root(context)
