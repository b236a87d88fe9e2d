"""Notifications through the oslo.messaging notifier.

Event types are Trove's: ``trove.instance.create``, ``.delete``,
``.modify_flavor`` ... and ``dbaas.<action>.start/end/error``. With no
``[oslo_messaging_notifications] driver`` configured nothing is sent.
"""
import socket
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import rpc

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
_NOTIFIER = None


def _notifier():
    global _NOTIFIER
    if _NOTIFIER is None:
        transport = oslo_messaging.get_notification_transport(CONF)
        _NOTIFIER = oslo_messaging.Notifier(
            transport, publisher_id='trove-taskmanager.%s'
            % socket.gethostname(), serializer=rpc.ContextSerializer())
    return _NOTIFIER


def reset() -> None:
    global _NOTIFIER
    _NOTIFIER = None


def notify(context, event_type: str, payload: dict[str, Any],
           error: bool = False) -> None:
    """Send ``event_type``; a notifier failure is logged, never raised
    (a lost notification must not fail the operation)."""
    try:
        notifier = _notifier()
        (notifier.error if error else notifier.info)(context, event_type,
                                                     payload)
    except Exception:  # noqa: B902 - notifications are best effort
        LOG.exception('Notification %s was not sent.', event_type)
