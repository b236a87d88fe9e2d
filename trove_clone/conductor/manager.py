"""Server side of the conductor RPC API (thin: log and delegate)."""
from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import rpc
from trove_clone.conductor import rpcapi

LOG = logging.getLogger(__name__)


class Manager:
    target = oslo_messaging.Target(version=rpcapi.RPC_API_VERSION)

    def ping(self, context) -> dict:
        return rpc.host_info('trove-conductor', rpcapi.RPC_API_VERSION)

    def heartbeat(self, context, instance_id: str, payload: dict,
                  sent: float) -> None:
        # Recording the status in the control DB arrives with instances.
        LOG.debug('Heartbeat of %s sent at %s: %s', instance_id, sent,
                  payload)
