"""/v1.0/{tenant}/instances/{id}/log: Trove's guest logs.

List and actions are synchronous calls to the instance's guest agent, as
in Trove (services/guest_logs.py says what is sent and who sees what).
"""
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import instance_accounts
from trove_clone.api.schemas import guest_logs as schemas
from trove_clone.services import guest_logs as service

#: Trove's rule for both the list and the actions.
RULE = 'instance:guest_log_list'


class InstanceLogsController:
    PATHS = ('/instances/{instance_id}/log',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row = instance_accounts.load_ready(self._instance_id, RULE)
        return base.respond({'logs': service.list_logs(
            ctx, instance_accounts.guest(row))})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        body = base.read_body(schemas.action)
        ctx, row = instance_accounts.load_ready(self._instance_id, RULE)
        return base.respond({'log': service.act(
            ctx, instance_accounts.guest(row), body)})
