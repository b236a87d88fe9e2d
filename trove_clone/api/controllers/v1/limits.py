"""/v1.0/{tenant}/limits"""
import datetime

import pecan
from pecan import expose

from trove_clone.api import ratelimit
from trove_clone.api.controllers import base
from trove_clone.services import quotas


class LimitsController:
    PATHS = ('/limits',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('limits:index')
        hard = quotas.limits(ctx, ctx.project_id)
        result = [{'verb': 'ABSOLUTE',
                   'max_instances': hard['instances'],
                   'max_ram': hard['ram'],
                   'max_backups': hard['backups'],
                   'max_volumes': hard['volumes'],
                   'max_configurations': hard['configurations'],
                   'max_modules': hard['modules']}]
        limiter = pecan.request.environ.get('trove.ratelimiter')
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            microsecond=0, tzinfo=None).isoformat() + 'Z'
        for limit in ratelimit.configured_limits():
            remaining = limit['value']
            if limiter is not None:
                remaining = limiter.remaining(ctx.project_id, limit['verb'],
                                              limit['uri'], limit['value'])
            result.append(dict(limit, unit='MINUTE', remaining=remaining,
                               nextAvailable=now))
        return base.respond({'limits': result})
