"""Configuration groups: values validated against the rules loaded for a
datastore version, attached to instances and applied by their guests."""
import decimal
from typing import Any, Protocol

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.services import config_parameters
from trove_clone.services import datastores
from trove_clone.services import quotas

LOG = logging.getLogger(__name__)


class Tasks(Protocol):
    """What this module casts to the taskmanager."""

    def apply_configuration(self, context, instance_id: str) -> None: ...


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
    rows = db_configurations.list_page(context, context.project_id,
                                       size + 1, marker)
    next_marker = rows[size - 1]['id'] if len(rows) > size else None
    versions: dict = {}
    for group in rows[:size]:
        version_id = group['datastore_version_id']
        if version_id not in versions:
            versions[version_id] = db_api.datastore_version_get(context,
                                                                version_id)
        group['datastore_version'] = versions[version_id]
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
                     tasks: Tasks) -> dict:
    """Change a group (see :func:`update`) and, when a value changed,
    have every instance it is attached to apply it; returns the group.

    When a cast fails the group gets its name, description and values
    back before the error is raised (MessagingUnavailable, 503, for a
    broker that did not take it): the request changed nothing an instance
    could apply later. An instance cast before the failure re-reads the
    group when its taskmanager gets to it, so it applies the values given
    back unless it was quicker.
    """
    updated = update(context, group, spec, merge)
    if not updated['changed']:
        return updated
    try:
        for instance in db_configurations.instances_of(context,
                                                       group['id']):
            tasks.apply_configuration(context, instance['id'])
    except Exception as error:  # noqa: B902 - given back, then raised
        LOG.warning('Configuration group %s: the change was not cast to '
                    'its instances, given back: %s', group['id'], error)
        db_configurations.replace(
            context, group['id'], group['values'],
            {'name': group['name'], 'description': group['description']})
        raise
    return updated


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
