"""trove-manage: the control database and the datastore catalogue.

Every command prints one line saying what it did. A bad argument prints
one line naming the problem to stderr, exits 1 and changes nothing.
"""
import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
import sqlalchemy.exc

from trove_clone.common import config
from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import migration
from trove_clone.db import models
from trove_clone import drivers
from trove_clone.services import config_parameters
from trove_clone.services import datastores
from trove_clone.services import deployment_secrets
from trove_clone.services import modules

CONF = cfg.CONF


class UsageError(Exception):
    """A command-line mistake; the message is printed as is."""


def _admin():
    return trove_context.admin_context()


def _label(version: dict) -> str:
    return "'%s' (%s)" % (version['name'], version['version'])


# --- database commands -----------------------------------------------------

def db_sync() -> str:
    migration.sync(CONF.command.version)
    # A new deployment's own random keys for module contents and for
    # the instances' RPC keys.
    modules.ensure_key()
    deployment_secrets.ensure_rpc_key(_admin())
    deployment_secrets.ensure_backup_key()
    return 'Database synced to %s.%s' % (migration.version_string(),
                                         _rewrap())


def _rewrap() -> str:
    """Wrap again the instance keys the old literal default wrapped."""
    done = deployment_secrets.rewrap_legacy_keys(_admin())
    if not done:
        return ''
    return (' %d instance RPC keys wrapped with the old default key were '
            'wrapped again with the deployment\'s key.' % done)


def db_upgrade() -> str:
    migration.upgrade(CONF.command.version or 'heads')
    return 'Database upgraded to %s.' % migration.version_string()


def db_expand() -> str:
    migration.expand()
    # The new code needs the deployment's key before its services start.
    deployment_secrets.ensure_rpc_key(_admin())
    return 'Database expanded to %s.' % migration.version_string()


def db_migrate() -> str:
    moved = migration.migrate()
    return 'Data migrations done: %d rows migrated.' % moved


def db_contract() -> str:
    migration.contract()
    deployment_secrets.ensure_rpc_key(_admin())
    return 'Database contracted to %s.%s' % (migration.version_string(),
                                             _rewrap())


def db_version() -> str:
    version = migration.version_string()
    if version is None:
        raise UsageError('The database is not under migration control: run '
                         'trove-manage db_sync.')
    heads = migration.current_heads()
    latest = migration.latest_heads()
    state = 'up to date' if heads == latest else \
        'behind the code (%s, %s)' % (latest['expand'], latest['contract'])
    return 'Database version is: %s (expand, contract); %s.' % (version,
                                                                state)


def db_downgrade() -> str:
    raise exception.DowngradeNotSupported()


# --- datastore commands ----------------------------------------------------

def _fit(*fields: tuple) -> None:
    """BadRequest (exit 1, nothing written) unless each ``(what, value,
    column)`` fits its column: SQLite would store a longer value that
    MariaDB and PostgreSQL refuse."""
    for what, value, column in fields:
        db_api.check_width(what, value, column)


def datastore_update() -> str:
    args = CONF.command
    _fit(('datastore name', args.datastore_name, models.Datastore.name),
         ('version name', args.default_version, models.DatastoreVersion.name),
         ('version number', args.version_number,
          models.DatastoreVersion.version))
    ds = datastores.update_datastore(_admin(), args.datastore_name,
                                     args.default_version,
                                     args.version_number)
    if args.default_version:
        return "Datastore '%s' updated: default version '%s'." % (
            ds['name'], args.default_version)
    return "Datastore '%s' updated: no default version." % ds['name']


def _active(value: str) -> bool:
    if value not in ('0', '1'):
        raise UsageError("ACTIVE must be 1 (active) or 0 (disabled), not "
                         "'%s'." % value)
    return value == '1'


def datastore_version_update() -> str:
    args = CONF.command
    version_model = models.DatastoreVersion
    _fit(('datastore name', args.datastore, models.Datastore.name),
         ('version name', args.version_name, version_model.name),
         ('version number', args.version_number, version_model.version),
         ('manager', args.manager, version_model.manager),
         ('image id', args.image_id, version_model.image_id),
         ('packages', args.packages, version_model.packages),
         ('image tags', args.image_tags, version_model.image_tags))
    version, created = datastores.upsert_version(
        _admin(), args.datastore, args.version_name, args.manager,
        args.image_id or None, args.packages, _active(args.active),
        image_tags=datastores.split_tags(args.image_tags),
        version_number=args.version_number,
        registry_ext=args.registry_ext, repl_strategy=args.repl_strategy)
    return "Datastore version %s %s for datastore '%s'." % (
        _label(version), 'created' if created else 'updated',
        args.datastore)


def db_load_datastore_config_parameters() -> str:
    args = CONF.command
    version, count = config_parameters.load_rules(
        _admin(), args.datastore, args.datastore_version,
        args.config_file_location, args.version_number)
    return ("Loaded %d configuration parameters for datastore '%s' version "
            "%s." % (count, args.datastore, _label(version)))


def db_remove_datastore_config_parameters() -> str:
    args = CONF.command
    version, count = config_parameters.remove_rules(
        _admin(), args.datastore, args.datastore_version,
        args.version_number)
    return ("Removed %d configuration parameters of datastore '%s' version "
            "%s." % (count, args.datastore, _label(version)))


def _ids(text: str) -> list[str]:
    values = [value.strip() for value in text.split(',') if value.strip()]
    if not values:
        raise UsageError('Give at least one id.')
    return values


def _associate(key: str, what: str) -> str:
    args = CONF.command
    for value in _ids(args.ids):
        _fit(('%s id' % what.rstrip('s'), value,
              models.DatastoreVersionMetadata.value))
    version, added = datastores.add_associations(
        _admin(), args.datastore_name, args.datastore_version_name, key,
        _ids(args.ids), args.version_number)
    return "Added %s %s to datastore '%s' version %s." % (
        what, ', '.join(added) or '(none new)', args.datastore_name,
        _label(version))


def _dissociate(key: str, what: str) -> str:
    args = CONF.command
    version = datastores.delete_association(
        _admin(), args.datastore_name, args.datastore_version_name, key,
        args.id, args.version_number)
    return "Removed %s %s from datastore '%s' version %s." % (
        what, args.id, args.datastore_name, _label(version))


def datastore_version_flavor_add() -> str:
    return _associate(datastores.FLAVOR_KEY, 'flavors')


def datastore_version_flavor_delete() -> str:
    return _dissociate(datastores.FLAVOR_KEY, 'flavor')


def datastore_version_volume_type_add() -> str:
    return _associate(datastores.VOLUME_TYPE_KEY, 'volume types')


def datastore_version_volume_type_delete() -> str:
    return _dissociate(datastores.VOLUME_TYPE_KEY, 'volume type')


def datastore_version_volume_type_list() -> str:
    args = CONF.command
    version = datastores.find_version(_admin(), args.datastore_name,
                                      args.datastore_version_name,
                                      args.version_number)
    types = datastores.list_associations(_admin(), version['id'],
                                         datastores.VOLUME_TYPE_KEY)
    return "Volume types of datastore '%s' version %s: %s" % (
        args.datastore_name, _label(version), ', '.join(types) or '(any)')


# --- flavors of the local backend ------------------------------------------

def _positive(name: str, value: str, minimum: int = 1) -> int:
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise UsageError('%s must be a whole number of at least %d, not '
                         "'%s'." % (name, minimum, value))
    return number


def flavor_create() -> str:
    args = CONF.command
    _fit(('flavor id', args.flavor_id, models.Flavor.id),
         ('flavor name', args.flavor_name, models.Flavor.name))
    flavor = db_api.flavor_create(_admin(), {
        'id': args.flavor_id, 'name': args.flavor_name,
        'ram': _positive('RAM', args.ram), 'vcpus': _positive('VCPUS',
                                                              args.vcpus),
        'disk': _positive('DISK', args.disk, 0), 'ephemeral': 0})
    return "Flavor %s '%s' created: %d MB RAM, %d vCPUs, %d GB disk." % (
        flavor['id'], flavor['name'], flavor['ram'], flavor['vcpus'],
        flavor['disk'])


def flavor_list() -> str:
    lines = ['%-6s %-16s %8s %6s %6s' % ('ID', 'Name', 'RAM', 'VCPUs',
                                         'Disk')]
    for flavor in drivers.get('flavor').list():
        lines.append('%-6s %-16s %8d %6d %6d' % (
            flavor['id'], flavor['name'], flavor['ram'], flavor['vcpus'],
            flavor['disk']))
    return '\n'.join(lines)


def flavor_delete() -> str:
    db_api.flavor_delete(_admin(), CONF.command.flavor_id)
    return 'Flavor %s deleted.' % CONF.command.flavor_id


# --- argument parsing ------------------------------------------------------

def _version_number(parser) -> None:
    parser.add_argument('--version-number', '--version_number',
                        dest='version_number', default=None,
                        help='The version number, when several versions '
                             'share the name.')


def _add_parsers(subparsers) -> None:
    def command(name, func, help_text, *positionals):
        parser = subparsers.add_parser(name, help=help_text)
        for positional in positionals:
            if isinstance(positional, tuple):
                parser.add_argument(positional[0], nargs='?',
                                    help=positional[1])
            else:
                parser.add_argument(positional)
        parser.set_defaults(func=func)
        return parser

    command('db_sync', db_sync, 'Create or upgrade the schema: expand, '
            'migrate data, contract.', ('version', 'Stop at this revision.'))
    command('db_upgrade', db_upgrade, 'Upgrade to a revision.',
            ('version', 'A revision (default: the newest).'))
    command('db_expand', db_expand, 'Run the expand migrations.')
    command('db_migrate', db_migrate, 'Run the data migrations.')
    command('db_contract', db_contract, 'Run the contract migrations.')
    command('db_version', db_version, 'Print the schema version.')
    command('db_downgrade', db_downgrade, 'Refused: restore a backup.',
            ('version', 'Ignored.'))
    command('flavor_create', flavor_create, 'Create a local flavor.',
            'flavor_id', 'flavor_name', 'ram', 'vcpus', 'disk')
    command('flavor_list', flavor_list, 'List the flavors.')
    command('flavor_delete', flavor_delete,
            'Delete a flavor created with flavor_create.', 'flavor_id')
    parser = command('datastore_update', datastore_update,
                     'Create a datastore or set its default version.',
                     'datastore_name', 'default_version')
    _version_number(parser)
    parser = command('datastore_version_update', datastore_version_update,
                     'Create or update a datastore version.', 'datastore',
                     'version_name', 'manager', 'image_id', 'packages',
                     'active')
    parser.add_argument('--image-tags', '--image_tags', dest='image_tags',
                        default='', help='Comma-separated image tags.')
    parser.add_argument('--registry-ext', '--registry_ext',
                        dest='registry_ext', default=None)
    parser.add_argument('--repl-strategy', '--repl_strategy',
                        dest='repl_strategy', default=None)
    _version_number(parser)
    parser = command('db_load_datastore_config_parameters',
                     db_load_datastore_config_parameters,
                     'Load a validation-rules.json file.', 'datastore',
                     'datastore_version', 'config_file_location')
    _version_number(parser)
    parser = command('db_remove_datastore_config_parameters',
                     db_remove_datastore_config_parameters,
                     'Remove the configuration parameters of a version.',
                     'datastore', 'datastore_version')
    _version_number(parser)
    for name, func, id_arg in (
            ('datastore_version_flavor_add',
             datastore_version_flavor_add, 'ids'),
            ('datastore_version_flavor_delete',
             datastore_version_flavor_delete, 'id'),
            ('datastore_version_volume_type_add',
             datastore_version_volume_type_add, 'ids'),
            ('datastore_version_volume_type_delete',
             datastore_version_volume_type_delete, 'id'),
            ('datastore_version_volume_type_list',
             datastore_version_volume_type_list, None)):
        positionals = ['datastore_name', 'datastore_version_name']
        if id_arg:
            positionals.append(id_arg)
        parser = command(name, func, name.replace('_', ' ') + '.',
                         *positionals)
        _version_number(parser)


_COMMAND_OPT = cfg.SubCommandOpt(
    'command', title='Commands', handler=_add_parsers,
    help='Run trove-manage COMMAND --help for its arguments.')


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (0 done, 1 refused)."""
    CONF.reset()
    CONF.register_cli_opt(_COMMAND_OPT)
    try:
        config.parse_args(sys.argv[1:] if argv is None else argv,
                          'trove-manage')
        print(CONF.command.func())
        return 0
    except (exception.TroveError, UsageError) as error:
        print(getattr(error, 'message', str(error)), file=sys.stderr)
    except db_exc.CantStartEngineError:
        print('No control database is configured: give --config-file with '
              'a [database] connection (default %s, or $%s).'
              % (config.DEFAULT_CONFIG_FILE, config.CONFIG_FILE_VARIABLE),
              file=sys.stderr)
    except (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError) as error:
        print('Database error: %s. Is [database] connection right, and '
              'has trove-manage db_sync run?' % _first_line(error),
              file=sys.stderr)
    finally:
        # Leave the global configuration as it was, for callers that run
        # other commands in the same process.
        CONF.reset()
        CONF.unregister_opt(_COMMAND_OPT)
    return 1


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error) else \
        type(error).__name__


if __name__ == '__main__':
    sys.exit(main())
