"""Apply an attached, changed or detached configuration group; the
instance shows RESTART_REQUIRED when a changed value takes effect only
at restart. A failure adds a fault; the instance keeps its task."""
from oslo_log import log as logging
from taskflow.patterns import linear_flow

from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager.tasks import base
from trove_clone.taskmanager.tasks import guest

LOG = logging.getLogger(__name__)


class ApplyOverrides(base.InstanceTask):
    step = 'configuration'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        restart = base.run_step(
            self.step, CONF.agent_call_high_timeout,
            lambda: guest.apply_overrides(context, instance_id))
        if restart:
            db_instances.set_task(context, instance_id,
                                  statuses.RESTART_REQUIRED,
                                  expected_tasks=(statuses.NONE.code,))

    def revert(self, context, instance_id, flow_failures, **kwargs):
        failure = base.first_failure(flow_failures)
        LOG.error('Configuring instance %s failed: %s', instance_id,
                  failure)
        db_instances.add_fault(base.context_of(context), instance_id,
                               'Applying the configuration failed: %s'
                               % failure.reason, failure.details)


def get_flow() -> linear_flow.Flow:
    """Store: context, instance_id."""
    return linear_flow.Flow('apply_configuration').add(ApplyOverrides())
