"""Configuration groups: values validated against the rules loaded for a
datastore version, attached to instances and applied by their guests.

A group is applied inside the request that attaches, detaches or changes
it, as Trove does: the API calls each instance's guest and waits for it
(at most ``agent_call_low_timeout`` seconds), so that a dynamic value is
live when the client gets its answer. A guest that fails or does not
answer in time leaves the instance RESTART_REQUIRED with a fault saying
so; a broker that does not take the call gives the change back (503).
"""
import concurrent.futures
import decimal
import time
from typing import Any, Callable, Protocol

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances
from trove_clone.db import listings
from trove_clone.services import config_parameters
from trove_clone.services import datastores
from trove_clone.services import quotas

LOG = logging.getLogger(__name__)
#: Tasks in which an instance's guest is not asked: a build applies the
#: group itself, a delete needs nothing.
_NOT_ASKED = (statuses.BUILDING.code, statuses.DELETING.code)
#: Guest calls run here so that a request waits for them at most
#: agent_call_low_timeout (the guest client's own bound for this call is
#: agent_call_high_timeout). A call given up on finishes in its thread.
_GUEST_CALLS = concurrent.futures.ThreadPoolExecutor(
    max_workers=8, thread_name_prefix='apply-configuration')


class OverridesGuest(Protocol):
    """The guest call that applies an instance's group."""

    def update_overrides(self, context, overrides: dict,
                         dynamic: list) -> list: ...


#: Makes the guest client of an instance row.
GuestFor = Callable[[dict], OverridesGuest]


def rules_for(context, version: dict) -> dict[str, dict]:
    """The rules of a version by parameter name; ConfigurationNotSupported
    (422) when none are loaded."""
    rules = config_parameters.list_for_version(context, version['id'])
    if not rules:
        raise exception.ConfigurationNotSupported(
            datastore=version['datastore_name'], version=version['name'])
    return {rule['name']: rule for rule in rules}


def _check_type(name: str, value: Any, data_type: str) -> None:
    wrong = {
        'integer': isinstance(value, bool) or not isinstance(value, int),
        'float': isinstance(value, bool) or not isinstance(value, (int,
                                                                   float)),
        'boolean': not isinstance(value, bool),
        'string': not isinstance(value, str),
    }.get(data_type, False)
    if wrong:
        raise exception.InvalidConfigurationValue(
            reason='%s must be of type %s, not %r.' % (name, data_type,
                                                       value))


def validate(rules: dict[str, dict], values: dict) -> dict:
    """``values`` if each names a known parameter with a value of its type
    within its bounds; InvalidConfigurationValue (422) naming the key and
    the bound otherwise."""
    for name, value in values.items():
        rule = rules.get(name)
        if rule is None:
            raise exception.InvalidConfigurationValue(
                reason='%s is not a configuration parameter of this '
                       'datastore version.' % name)
        _check_type(name, value, rule['data_type'])
        if rule['data_type'] not in ('integer', 'float'):
            continue
        number = decimal.Decimal(str(value))
        low = config_parameters.number(rule['min_size'])
        high = config_parameters.number(rule['max_size'])
        if low is not None and number < decimal.Decimal(str(low)):
            raise exception.InvalidConfigurationValue(
                reason='%s is %s, below its minimum %s.' % (name, value,
                                                            low))
        if high is not None and number > decimal.Decimal(str(high)):
            raise exception.InvalidConfigurationValue(
                reason='%s is %s, above its maximum %s.' % (name, value,
                                                            high))
    return values


def needs_restart(rules: dict[str, dict], names) -> bool:
    return any(rules[name]['restart_required'] for name in names
               if name in rules)


def resolve_version(context, datastore: dict | None) -> dict:
    datastore = datastore or {}
    name = datastore.get('type')
    if not name:
        raise exception.BadRequest('A configuration group needs a '
                                   'datastore: give datastore.type.')
    return datastores.version_or_default(context, name,
                                         datastore.get('version'),
                                         datastore.get('version_number'))


def create(context, spec: dict) -> dict:
    """Check and record a group for the caller's project.

    :raises: ConfigurationAlreadyExists, QuotaExceeded,
        InvalidConfigurationValue, ConfigurationNotSupported
    """
    version = resolve_version(context, spec.get('datastore'))
    values = validate(rules_for(context, version), spec.get('values') or {})
    return db_configurations.create(context, {
        'name': spec['name'], 'description': spec.get('description'),
        'tenant_id': context.project_id,
        'datastore_version_id': version['id']}, values,
        quotas.limits(context, context.project_id)[
            db_configurations.QUOTA_RESOURCE])


def list_page(context, limit: int | None, marker: str | None
              ) -> tuple[list[dict], str | None]:
    """One page of the caller's project's groups, each with its
    ``datastore_version``, and the marker of the next page (or None).

    :raises: ConfigurationNotFound (the marker)
    """
    size = CONF.configurations_page_size if limit is None else min(
        limit, CONF.configurations_page_size)
    rows = listings.configurations_page(context, context.project_id,
                                        size + 1, marker)
    next_marker = rows[size - 1]['id'] if len(rows) > size else None
    return rows[:size], next_marker


def get(context, configuration_id: str, project_id: str | None) -> dict:
    found = db_configurations.get(context, configuration_id, project_id)
    found['datastore_version'] = db_api.datastore_version_get(
        context, found['datastore_version_id'])
    return found


def update(context, group: dict, spec: dict, merge: bool) -> dict:
    """Replace (PUT) or merge (PATCH) the values; returns the group with
    ``changed`` the names whose value changed."""
    rules = rules_for(context, group['datastore_version'])
    values = validate(rules, spec.get('values') or {})
    changes = {key: spec[key] for key in ('name', 'description')
               if key in spec}
    updated = db_configurations.replace(context, group['id'], values,
                                        changes, merge)
    before, after = group['values'], updated['values']
    updated['changed'] = sorted(
        name for name in set(before) | set(after)
        if before.get(name) != after.get(name))
    updated['datastore_version'] = group['datastore_version']
    return updated


def update_and_apply(context, group: dict, spec: dict, merge: bool,
                     guest_for: GuestFor) -> dict:
    """Change a group (see :func:`update`) and, when a value changed,
    have every instance it is attached to apply it before this returns
    (see :func:`apply_to_instances`); returns the group.

    When the broker does not take a guest call the group gets its name,
    description and values back before MessagingUnavailable (503) is
    raised; an instance whose guest was reached keeps what it applied
    until the group is applied again.
    """
    updated = update(context, group, spec, merge)
    if not updated['changed']:
        return updated
    instance_ids = [instance['id'] for instance in
                    db_configurations.instances_of(context, group['id'])]
    try:
        apply_to_instances(context, instance_ids, guest_for)
    except Exception as error:  # noqa: B902 - given back, then raised
        LOG.warning('Configuration group %s: the change did not reach '
                    'its instances, given back: %s', group['id'], error)
        db_configurations.replace(
            context, group['id'], group['values'],
            {'name': group['name'], 'description': group['description']})
        raise
    return updated


def overrides_of(context, instance: dict) -> tuple[dict, dict[str, dict]]:
    """(values of the instance's attached group, ``{}`` when none; the
    rules of its datastore version by parameter name)."""
    values: dict = {}
    if instance['configuration_id']:
        try:
            values = db_configurations.get(
                context, instance['configuration_id'])['values']
        except exception.ConfigurationNotFound:
            values = {}
    rules = {rule['name']: rule for rule in db_api.config_parameter_list(
        context, instance['datastore_version_id'])}
    return values, rules


def apply_to_instances(context, instance_ids: list[str],
                       guest_for: GuestFor) -> None:
    """Have the guests of the instances apply their groups now, all at
    once, waiting for them at most agent_call_low_timeout seconds in all.

    An instance whose changed values need a restart moves to
    RESTART_REQUIRED (from no task); one whose guest fails or does not
    answer in time gets a fault and RESTART_REQUIRED. Building and
    deleting instances are not asked.

    :raises: MessagingUnavailable (503) when the broker did not take a
        call (after the other calls were waited for)
    """
    calls = {}
    for instance_id in instance_ids:
        row = db_instances.get(context, instance_id)
        if row['task_id'] in _NOT_ASKED:
            continue
        values, rules = overrides_of(context, row)
        dynamic = sorted(name for name, rule in rules.items()
                         if not rule['restart_required'])
        future = _GUEST_CALLS.submit(guest_for(row).update_overrides,
                                     context, values, dynamic)
        calls[instance_id] = (future, rules)
    deadline = time.monotonic() + CONF.agent_call_low_timeout
    unavailable = None
    for instance_id, (future, rules) in calls.items():
        try:
            changed = future.result(max(0.0, deadline - time.monotonic()))
        except exception.MessagingUnavailable as error:
            unavailable = error
            continue
        except concurrent.futures.TimeoutError:
            _not_applied(context, instance_id, 'Its guest did not answer '
                         'within %d seconds.' % CONF.agent_call_low_timeout)
            continue
        except Exception as error:  # noqa: B902 - recorded on the instance
            _not_applied(context, instance_id, getattr(
                error, 'message', None) or str(error))
            continue
        if any(rules.get(name, {}).get('restart_required', True)
               for name in changed or []):
            db_instances.set_task(context, instance_id,
                                  statuses.RESTART_REQUIRED,
                                  expected_tasks=(statuses.NONE.code,))
    if unavailable is not None:
        raise unavailable


def _not_applied(context, instance_id: str, details: str) -> None:
    LOG.warning('Instance %s did not apply its configuration group: %s',
                instance_id, details)
    db_instances.add_fault(
        context, instance_id, 'The configuration group was not applied: '
        'restart the instance to apply it.', details)
    db_instances.set_task(context, instance_id, statuses.RESTART_REQUIRED,
                          expected_tasks=(statuses.NONE.code,))


def instances_of(context, group: dict) -> list[dict]:
    """``{'id', 'name'}`` of the instances the group is attached to."""
    return db_configurations.instances_of(context, group['id'])


def delete(context, group: dict) -> None:
    """Delete a group no instance uses.

    :raises: ConfigurationInUse (400)
    """
    db_configurations.delete(context, group['id'])


def check_attachable(context, group: dict, instance: dict) -> None:
    """The group must be for the instance's datastore version."""
    if group['datastore_version_id'] != instance['datastore_version_id']:
        version = group['datastore_version']
        raise exception.UnprocessableEntity(
            'Configuration group %s is for datastore %s version %s; '
            'instance %s runs another datastore version.' % (
                group['id'], version['datastore_name'], version['name'],
                instance['id']))
