"""Server side of the guest agent RPC API (thin: log and delegate).

Service statuses use Trove's descriptions: ``new``, ``building``,
``healthy``, ``shutdown``, ``failed``.
"""
import threading

from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import exception
from trove_clone.common import rpc
from trove_clone.guestagent.datastores import registry
from trove_clone.guestagent import rpcapi

LOG = logging.getLogger(__name__)


class Manager:
    target = oslo_messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.status = 'new'
        self.error: str | None = None
        self.engine = None
        self._lock = threading.Lock()

    def ping(self, context) -> dict:
        info = rpc.host_info('trove-guestagent', rpcapi.RPC_API_VERSION)
        info['instance_id'] = self.instance_id
        return info

    def get_version(self, context) -> str:
        return rpcapi.RPC_API_VERSION

    def prepare(self, context, manager: str) -> None:
        with self._lock:
            if self.status not in ('new', 'failed'):
                LOG.warning('prepare ignored: the guest is %s', self.status)
                return
            self.status, self.error = 'building', None
        threading.Thread(target=self._prepare, args=(manager,),
                         name='prepare', daemon=True).start()

    def _prepare(self, manager: str) -> None:
        try:
            self.engine = registry.lifecycle(manager)
            self.engine.prepare()
        except exception.TroveError as error:
            LOG.error('prepare failed: %s', error.message)
            self.status, self.error = 'failed', error.message
            return
        except Exception as error:  # noqa: B902 - reported, not raised
            LOG.exception('prepare failed')
            self.status, self.error = 'failed', str(error)
            return
        self.status = 'healthy'
        LOG.info('The %s engine is ready.', manager)

    def get_status(self, context) -> dict:
        status = self.status
        if status == 'healthy' and not self.engine.is_healthy():
            status = 'shutdown'
        return {'status': status, 'error': self.error}

    def restart(self, context) -> None:
        self._require_engine().stop()
        self.engine.start()
        self.status = 'healthy'

    def stop_db(self, context) -> None:
        self._require_engine().stop()
        self.status = 'shutdown'

    def _require_engine(self):
        if self.engine is None:
            raise exception.UnprocessableEntity(
                'The guest has no engine yet: prepare it first.')
        return self.engine
