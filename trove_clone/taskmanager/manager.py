"""Server side of the taskmanager RPC API (thin: log and delegate)."""
import oslo_messaging

from trove_clone.common import rpc
from trove_clone.taskmanager import rpcapi


class Manager:
    target = oslo_messaging.Target(version=rpcapi.RPC_API_VERSION)

    def ping(self, context) -> dict:
        return rpc.host_info('trove-taskmanager', rpcapi.RPC_API_VERSION)
