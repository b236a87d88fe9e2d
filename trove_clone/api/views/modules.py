"""Views of modules (Trove's shapes)."""
from trove_clone.api.views import common


def module(data: dict) -> dict:
    """A module in a list; ``data`` as services.modules.with_names gives
    it."""
    return {
        'id': data['id'], 'name': data['name'], 'type': data['type'],
        'description': data['description'],
        'tenant_id': data['tenant_id'], 'tenant': data['tenant'],
        'datastore_id': data['datastore_id'],
        'datastore': data['datastore'],
        'datastore_version_id': data['datastore_version_id'],
        'datastore_version': data['datastore_version'],
        'auto_apply': bool(data['auto_apply']),
        'priority_apply': bool(data['priority_apply']),
        'apply_order': data['apply_order'],
        'is_admin': bool(data['is_admin']),
        'md5': data['md5'],
        'visible': bool(data['visible']),
        'created': common.timestamp(data['created']),
        'updated': common.timestamp(data['updated']),
    }


def detail(data: dict, instance_count: int | None = None,
           contents: str | None = None) -> dict:
    """Show, create and update: adds live_update, and instance_count
    (instances at the current md5) where given."""
    view = module(data)
    view['live_update'] = bool(data['live_update'])
    if instance_count is not None:
        view['instance_count'] = instance_count
    if contents is not None:
        view['contents'] = contents
    return view


def counts(data: dict, groups: list[dict]) -> list[dict]:
    """``?count_only``: one row per applied md5."""
    return [{'module_id': data['id'], 'module_name': data['name'],
             'module_md5': group['md5'],
             'instance_count': group['count'],
             'current': group['md5'] == data['md5'],
             'min_updated_date': common.timestamp(group['min_updated']),
             'max_updated_date': common.timestamp(group['max_updated'])}
            for group in groups]


def applied(data: dict) -> dict:
    """A module applied to an instance, from the control database."""
    view = module(data)
    view.update(md5=data['applied_md5'],
                created=common.timestamp(data['applied_created']),
                updated=common.timestamp(data['applied_updated']))
    return view
