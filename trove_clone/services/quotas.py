"""Quotas: per-project limits with the configured defaults."""
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import api as db_api

RESOURCES = ('instances', 'ram', 'volumes', 'backups')


def default_limits() -> dict[str, int]:
    return {
        'instances': CONF.max_instances_per_tenant,
        'ram': CONF.max_ram_per_tenant,
        'volumes': CONF.max_volumes_per_tenant,
        'backups': CONF.max_backups_per_tenant,
        'configurations': CONF.max_configurations_per_tenant,
        'modules': CONF.max_modules_per_tenant,
    }


def limits(context, project_id: str) -> dict[str, int]:
    """The hard limit of every resource for ``project_id`` (-1: none)."""
    values = default_limits()
    values.update({resource: limit for resource, limit in
                   db_api.quota_get_all(context, project_id).items()
                   if resource in values})
    return values


def show(context, project_id: str) -> list[dict]:
    """Limit, use and reservations of every resource."""
    hard = limits(context, project_id)
    usages = db_api.quota_usage_get_all(context, project_id)
    return [{'resource': resource,
             'in_use': usages.get(resource, {}).get('in_use', 0),
             'reserved': usages.get(resource, {}).get('reserved', 0),
             'limit': hard[resource]}
            for resource in RESOURCES]


def update(context, project_id: str, new_limits: dict[str, int]
           ) -> dict[str, int]:
    """Set limits; raises QuotaResourceUnknown for an unknown resource."""
    unknown = sorted(set(new_limits) - set(RESOURCES))
    if unknown:
        raise exception.QuotaResourceUnknown(unknown=', '.join(unknown))
    db_api.quota_set(context, project_id, new_limits)
    return dict(new_limits)
