"""Validation rules of configuration parameters per datastore version."""
import json

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import listings

DATA_TYPES = ('integer', 'string', 'boolean', 'float')
_RULE_KEYS = {'name', 'restart_required', 'type', 'min', 'max'}


def _bound(value, name: str, key: str, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise exception.InvalidRulesFile(
            path=path, reason='%s of %s must be a number, not %r'
            % (key, name, value))
    return str(value)


def parse_rules(text: str, path: str) -> list[dict]:
    """Parse a validation-rules.json document into parameter rows.

    :raises: InvalidRulesFile naming the entry that is wrong
    """
    try:
        document = json.loads(text)
    except ValueError as error:
        raise exception.InvalidRulesFile(path=path, reason=str(error))
    entries = (document.get('configuration-parameters')
               if isinstance(document, dict) else None)
    if not isinstance(entries, list):
        raise exception.InvalidRulesFile(
            path=path, reason='no "configuration-parameters" list')
    rows, seen = [], set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(
                entry.get('name'), str) or not entry['name']:
            raise exception.InvalidRulesFile(
                path=path, reason='entry %d has no name' % index)
        name = entry['name']
        unknown = set(entry) - _RULE_KEYS
        if unknown:
            raise exception.InvalidRulesFile(
                path=path, reason='%s has unknown keys %s'
                % (name, ', '.join(sorted(unknown))))
        if entry.get('type') not in DATA_TYPES:
            raise exception.InvalidRulesFile(
                path=path, reason='%s has type %r, not one of %s'
                % (name, entry.get('type'), ', '.join(DATA_TYPES)))
        if not isinstance(entry.get('restart_required'), bool):
            raise exception.InvalidRulesFile(
                path=path, reason='%s needs restart_required true or false'
                % name)
        if name in seen:
            raise exception.InvalidRulesFile(
                path=path, reason='%s is listed twice' % name)
        seen.add(name)
        rows.append({
            'name': name,
            'restart_required': entry['restart_required'],
            'data_type': entry['type'],
            'min_size': _bound(entry.get('min'), name, 'min', path),
            'max_size': _bound(entry.get('max'), name, 'max', path),
        })
    return rows


def load_rules(context, datastore: str, version: str, path: str,
               version_number: str | None = None) -> tuple[dict, int]:
    """Replace the version's parameters with the rules file at ``path``.

    Everything is checked before anything is written.
    """
    found = db_api.datastore_version_find(context, datastore, version,
                                          version_number)
    try:
        with open(path, encoding='utf-8') as rules_file:
            text = rules_file.read()
    except OSError as error:
        raise exception.InvalidRulesFile(path=path, reason=error.strerror)
    rows = parse_rules(text, path)
    return found, db_api.config_parameters_replace(context, found['id'],
                                                   rows)


def remove_rules(context, datastore: str, version: str,
                 version_number: str | None = None) -> tuple[dict, int]:
    found = db_api.datastore_version_find(context, datastore, version,
                                          version_number)
    return found, db_api.config_parameters_delete_all(context, found['id'])


def number(text: str | None):
    """A stored bound back as int (or float), exactly."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def list_for_version(context, version_id: str) -> list[dict]:
    return listings.config_parameters(context, version_id)


def get_for_version(context, version_id: str, name: str) -> dict:
    return db_api.config_parameter_get(context, version_id, name)


def mgmt_values(body: dict) -> dict:
    """Row values from a mgmt create/update body (already schema-checked).

    Accepts Trove's documented ``min``/``max`` and the ``min_size``/
    ``max_size`` its code reads.
    """
    values = {
        'name': body['name'],
        'restart_required': bool(int(body['restart_required'])),
        'data_type': body['data_type'],
    }
    low = body.get('min_size', body.get('min'))
    high = body.get('max_size', body.get('max'))
    values['min_size'] = None if low is None else str(low)
    values['max_size'] = None if high is None else str(high)
    return values


# --- the administrators' API (mgmt) ----------------------------------------

def mgmt_list(context, version_id: str) -> list[dict]:
    """Every parameter of a datastore version.

    :raises: DatastoreVersionNotFound (404)
    """
    db_api.datastore_version_get(context, version_id)
    return db_api.config_parameter_list(context, version_id)


def mgmt_create(context, version_id: str, body: dict) -> dict:
    """Add a parameter to a version from a mgmt create body.

    :raises: DatastoreVersionNotFound (404),
        ConfigurationParameterAlreadyExists
    """
    db_api.datastore_version_get(context, version_id)
    return db_api.config_parameter_create(context, version_id,
                                          mgmt_values(body))


def mgmt_update(context, version_id: str, name: str, body: dict) -> dict:
    """Replace a parameter's rule from a mgmt update body.

    :raises: ConfigurationParameterNotFound (404)
    """
    return db_api.config_parameter_update(context, version_id, name,
                                          mgmt_values(body))


def mgmt_delete(context, version_id: str, name: str) -> None:
    """Remove a parameter of a version.

    :raises: ConfigurationParameterNotFound (404)
    """
    db_api.config_parameter_delete(context, version_id, name)
