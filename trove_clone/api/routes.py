"""The catalogue of the routes trove-api serves.

One entry per (method, path). The OpenAPI reference (api-ref/openapi.yaml)
is generated from this table and the request schemas in ``api/schemas``;
a test checks that the controllers serve exactly these routes.
"""
import dataclasses

from trove_clone.api.schemas import backups as backup_schemas
from trove_clone.api.schemas import clusters as cluster_schemas
from trove_clone.api.schemas import configurations as config_schemas
from trove_clone.api.schemas import datastores as datastore_schemas
from trove_clone.api.schemas import guest_logs as log_schemas
from trove_clone.api.schemas import instances as instance_schemas
from trove_clone.api.schemas import modules as module_schemas
from trove_clone.api.schemas import quotas as quota_schemas

TENANT = '/v1.0/{tenant_id}'
_INST = '/instances/{instance_id}'
_USER = _INST + '/users/{user}'
_CONF = '/configurations/{configuration_id}'
_MOD = '/modules/{module_id}'
_BACKUP = '/backups/{backup_id}'
_CLUSTER = '/clusters/{cluster_id}'


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    #: Path relative to /v1.0/{tenant_id}, or absolute when ``root``.
    path: str
    operation_id: str
    summary: str
    success: int
    tag: str
    request_schema: dict | None = None
    #: Top-level key of the success body (None: no body).
    response_key: str | None = None
    admin: bool = False
    root: bool = False
    query: tuple = ()

    @property
    def full_path(self) -> str:
        return self.path if self.root else TENANT + self.path


_DS = '/datastores/{datastore}/versions/{version}'
_BY_ID = '/datastores/versions/{version_id}'
_MGMT_PARAMS = '/mgmt/datastores/versions/{version_id}/parameters'

ROUTES = (
    Route('GET', '/', 'listVersions', 'List API versions.', 200, 'versions',
          response_key='versions', root=True),
    Route('GET', '/v1.0/', 'showVersion', 'Show API version v1.0.', 200,
          'versions', response_key='version', root=True),
    Route('GET', '/datastores', 'listDatastores', 'List datastores.', 200,
          'datastores', response_key='datastores'),
    Route('GET', '/datastores/{datastore}', 'showDatastore',
          'Show a datastore by id or name.', 200, 'datastores',
          response_key='datastore'),
    Route('DELETE', '/datastores/{datastore}', 'deleteDatastore',
          'Delete a datastore that has no versions.', 202, 'datastores'),
    Route('GET', '/datastores/{datastore}/versions', 'listDatastoreVersions',
          'List the versions of a datastore.', 200, 'datastores',
          response_key='versions'),
    Route('GET', _DS, 'showDatastoreVersion',
          'Show a datastore version by id or name.', 200, 'datastores',
          response_key='version'),
    Route('GET', _DS + '/flavors', 'listDatastoreVersionFlavors',
          'List the flavors allowed for a version.', 200, 'flavors',
          response_key='flavors'),
    Route('GET', _DS + '/volume-types', 'listDatastoreVersionVolumeTypes',
          'List the volume types allowed for a version.', 200,
          'datastores', response_key='volume_types'),
    Route('GET', _DS + '/parameters', 'listParameters',
          'List the configuration parameters of a version.', 200,
          'configuration-parameters',
          response_key='configuration-parameters'),
    Route('GET', _DS + '/parameters/{name}', 'showParameter',
          'Show a configuration parameter.', 200,
          'configuration-parameters', response_key='name'),
    Route('GET', _BY_ID, 'showDatastoreVersionById',
          'Show a datastore version by id.', 200, 'datastores',
          response_key='version'),
    Route('GET', _BY_ID + '/parameters', 'listParametersByVersion',
          'List the configuration parameters of a version by id.', 200,
          'configuration-parameters',
          response_key='configuration-parameters'),
    Route('GET', _BY_ID + '/parameters/{name}', 'showParameterByVersion',
          'Show a configuration parameter by version id.', 200,
          'configuration-parameters', response_key='name'),
    Route('GET', '/flavors', 'listFlavors', 'List flavors.', 200, 'flavors',
          response_key='flavors'),
    Route('GET', '/flavors/{flavor_id}', 'showFlavor', 'Show a flavor.',
          200, 'flavors', response_key='flavor'),
    Route('GET', '/limits', 'listLimits', 'Show absolute and rate limits.',
          200, 'limits', response_key='limits'),
    Route('GET', '/instances', 'listInstances', 'List instances.', 200,
          'instances', response_key='instances',
          query=('limit', 'marker', 'include_clustered')),
    Route('GET', '/instances/detail', 'listInstancesDetail',
          'List instances with details.', 200, 'instances',
          response_key='instances',
          query=('limit', 'marker', 'include_clustered')),
    Route('POST', '/instances', 'createInstance',
          'Create a database instance.', 200, 'instances',
          request_schema=instance_schemas.create, response_key='instance'),
    Route('GET', _INST, 'showInstance', 'Show an instance.', 200,
          'instances', response_key='instance'),
    Route('PUT', _INST, 'updateInstance',
          'Rename an instance, attach or detach a configuration group, '
          'upgrade it or change its access (is_public, allowed_cidrs).', 202,
          'instances', request_schema=instance_schemas.update),
    Route('PATCH', _INST, 'editInstance',
          'Rename an instance, change its configuration or its access '
          '(PATCH).', 202,
          'instances', request_schema=instance_schemas.edit),
    Route('DELETE', _INST, 'deleteInstance', 'Delete an instance.', 202,
          'instances'),
    Route('POST', _INST + '/action', 'instanceAction',
          'Restart, resize or reset the status of an instance.', 202,
          'instances', request_schema=instance_schemas.action),
    Route('GET', _INST + '/databases', 'listDatabases',
          'List the databases of an instance.', 200, 'databases',
          response_key='databases'),
    Route('POST', _INST + '/databases', 'createDatabases',
          'Create databases on an instance.', 202, 'databases',
          request_schema=instance_schemas.databases),
    Route('DELETE', _INST + '/databases/{database}', 'deleteDatabase',
          'Delete a database.', 202, 'databases'),
    Route('GET', _INST + '/users', 'listUsers',
          'List the users of an instance.', 200, 'users',
          response_key='users'),
    Route('POST', _INST + '/users', 'createUsers',
          'Create users on an instance.', 202, 'users',
          request_schema=instance_schemas.users),
    Route('PUT', _INST + '/users', 'changePasswords',
          'Change the passwords of users.', 202, 'users',
          request_schema=instance_schemas.passwords),
    Route('GET', _USER, 'showUser', 'Show a user (name or name@host).',
          200, 'users', response_key='user'),
    Route('PUT', _USER, 'updateUser',
          'Change the name, host or password of a user.', 202, 'users',
          request_schema=instance_schemas.user_update),
    Route('DELETE', _USER, 'deleteUser', 'Delete a user.', 202, 'users'),
    Route('GET', _USER + '/databases', 'listUserAccess',
          'List the databases a user may use.', 200, 'users',
          response_key='databases'),
    Route('PUT', _USER + '/databases', 'grantUserAccess',
          'Grant a user access to databases.', 202, 'users',
          request_schema=instance_schemas.access),
    Route('DELETE', _USER + '/databases/{database}', 'revokeUserAccess',
          "Revoke a user's access to a database.", 202, 'users'),
    Route('GET', _INST + '/root', 'showRoot',
          'Show whether root is enabled.', 200, 'root',
          response_key='rootEnabled'),
    Route('POST', _INST + '/root', 'enableRoot',
          'Enable root and return its password.', 200, 'root',
          request_schema=instance_schemas.root, response_key='user'),
    Route('DELETE', _INST + '/root', 'disableRoot', 'Disable root.', 204,
          'root'),
    Route('GET', _INST + '/configuration', 'showInstanceConfiguration',
          'Show the configuration the engine template rendered.', 200,
          'instances', response_key='instance'),
    Route('GET', _INST + '/modules', 'listInstanceModules',
          'List the modules of an instance (from its guest with '
          'from_guest).', 200, 'modules', response_key='modules',
          query=('from_guest', 'include_contents')),
    Route('POST', _INST + '/modules', 'applyInstanceModules',
          'Apply modules to an instance.', 200, 'modules',
          request_schema=module_schemas.apply, response_key='modules'),
    Route('DELETE', _INST + '/modules/{module_id}', 'removeInstanceModule',
          'Remove a module from an instance.', 200, 'modules'),
    Route('GET', _INST + '/log', 'listGuestLogs',
          "List the instance's guest logs (SYS logs: administrators "
          'only).', 200, 'logs', response_key='logs'),
    Route('POST', _INST + '/log', 'guestLogAction',
          'Show a guest log, or enable, disable, publish or discard it.',
          200, 'logs', request_schema=log_schemas.action,
          response_key='log'),
    Route('GET', '/modules', 'listModules', 'List modules.', 200,
          'modules', response_key='modules',
          query=('datastore', 'limit', 'marker')),
    Route('POST', '/modules', 'createModule', 'Create a module.', 200,
          'modules', request_schema=module_schemas.create,
          response_key='module'),
    Route('GET', _MOD, 'showModule', 'Show a module.', 200, 'modules',
          response_key='module'),
    Route('PUT', _MOD, 'updateModule', 'Update a module.', 200, 'modules',
          request_schema=module_schemas.update, response_key='module'),
    Route('DELETE', _MOD, 'deleteModule',
          'Delete a module (not while applied, unless live_update).', 200,
          'modules'),
    Route('GET', _MOD + '/instances', 'listModuleInstances',
          'List the instances of a module, or count them per md5 '
          '(count_only).', 200, 'modules', response_key='instances',
          query=('limit', 'marker', 'include_clustered', 'count_only')),
    Route('PUT', _MOD + '/instances', 'reapplyModule',
          'Reapply a module to the instances that have it.', 202,
          'modules', request_schema=module_schemas.reapply),
    Route('GET', _INST + '/backups', 'listInstanceBackups',
          'List the backups of an instance.', 200, 'backups',
          response_key='backups', query=('limit', 'marker')),
    Route('GET', '/backups', 'listBackups', 'List backups.', 200,
          'backups', response_key='backups',
          query=('limit', 'marker', 'datastore', 'instance_id',
                 'all_projects', 'project_id')),
    Route('POST', '/backups', 'createBackup',
          'Back up an instance (full, or incremental on a parent).', 202,
          'backups', request_schema=backup_schemas.create,
          response_key='backup'),
    Route('GET', _BACKUP, 'showBackup', 'Show a backup.', 200, 'backups',
          response_key='backup'),
    Route('DELETE', _BACKUP, 'deleteBackup',
          'Delete a backup and the incremental backups that depend on '
          'it.', 202, 'backups'),
    Route('GET', '/clusters', 'listClusters', 'List clusters.', 200,
          'clusters', response_key='clusters', query=('limit', 'marker')),
    Route('POST', '/clusters', 'createCluster',
          'Create a cluster: its members are instances.', 200,
          'clusters', request_schema=cluster_schemas.create,
          response_key='cluster'),
    Route('GET', _CLUSTER, 'showCluster',
          'Show a cluster, its members and cluster_state.', 200,
          'clusters', response_key='cluster'),
    Route('POST', _CLUSTER, 'clusterAction',
          'Grow, shrink, upgrade or (admin) reset the status of a '
          'cluster.', 202, 'clusters',
          request_schema=cluster_schemas.action, response_key='cluster'),
    Route('DELETE', _CLUSTER, 'deleteCluster',
          'Delete a cluster and its members.', 202, 'clusters'),
    Route('GET', _CLUSTER + '/instances/{instance_id}',
          'showClusterInstance', 'Show a member of a cluster.', 200,
          'clusters', response_key='instance'),
    Route('POST', _BACKUP + '/action', 'backupAction',
          'Verify a backup (an extension): restore it into a throwaway '
          'instance, record verified_at once its engine answers, delete '
          'the instance.', 202, 'backups',
          request_schema=backup_schemas.action),
    Route('GET', '/backup_strategies', 'listBackupStrategies',
          'List the backup strategies of a project.', 200, 'backups',
          response_key='backup_strategies',
          query=('instance_id', 'project_id')),
    Route('POST', '/backup_strategies', 'createBackupStrategy',
          'Name the container backups of a project or instance go to.',
          202, 'backups', request_schema=backup_schemas.strategy_create,
          response_key='backup_strategy'),
    Route('DELETE', '/backup_strategies', 'deleteBackupStrategy',
          'Delete a backup strategy.', 202, 'backups',
          query=('instance_id', 'project_id')),
    Route('GET', '/configurations', 'listConfigurations',
          'List configuration groups.', 200, 'configurations',
          response_key='configurations', query=('limit', 'marker')),
    Route('POST', '/configurations', 'createConfiguration',
          'Create a configuration group.', 200, 'configurations',
          request_schema=config_schemas.create,
          response_key='configuration'),
    Route('GET', _CONF, 'showConfiguration',
          'Show a configuration group.', 200, 'configurations',
          response_key='configuration'),
    Route('PUT', _CONF, 'updateConfiguration',
          'Replace the values of a configuration group.', 202,
          'configurations', request_schema=config_schemas.update),
    Route('PATCH', _CONF, 'editConfiguration',
          'Merge values into a configuration group.', 200,
          'configurations', request_schema=config_schemas.edit),
    Route('DELETE', _CONF, 'deleteConfiguration',
          'Delete a configuration group no instance uses.', 202,
          'configurations'),
    Route('GET', _CONF + '/instances', 'listConfigurationInstances',
          'List the instances of a configuration group.', 200,
          'configurations', response_key='instances'),
    Route('GET', '/mgmt/datastore-versions', 'mgmtListDatastoreVersions',
          'List every datastore version (admin).', 200, 'mgmt',
          response_key='versions', admin=True, query=('limit', 'marker')),
    Route('POST', '/mgmt/datastore-versions', 'mgmtCreateDatastoreVersion',
          'Create a datastore version, and its datastore if missing '
          '(admin).', 202, 'mgmt',
          request_schema=datastore_schemas.version_create, admin=True),
    Route('GET', '/mgmt/datastore-versions/{version_id}',
          'mgmtShowDatastoreVersion', 'Show a datastore version (admin).',
          200, 'mgmt', response_key='version', admin=True),
    Route('PATCH', '/mgmt/datastore-versions/{version_id}',
          'mgmtUpdateDatastoreVersion',
          'Change a datastore version (admin; flat body).', 202, 'mgmt',
          request_schema=datastore_schemas.version_edit, admin=True),
    Route('DELETE', '/mgmt/datastore-versions/{version_id}',
          'mgmtDeleteDatastoreVersion',
          'Delete an unused datastore version (admin).', 202, 'mgmt',
          admin=True),
    Route('GET', _MGMT_PARAMS, 'mgmtListParameters',
          'List the configuration parameters of a version (admin).', 200,
          'mgmt', response_key='configuration-parameters', admin=True),
    Route('POST', _MGMT_PARAMS, 'mgmtCreateParameter',
          'Create a configuration parameter (admin).', 200, 'mgmt',
          request_schema=datastore_schemas.parameter, response_key='name',
          admin=True),
    Route('GET', _MGMT_PARAMS + '/{name}', 'mgmtShowParameter',
          'Show a configuration parameter (admin).', 200, 'mgmt',
          response_key='name', admin=True),
    Route('PUT', _MGMT_PARAMS + '/{name}', 'mgmtUpdateParameter',
          'Replace a configuration parameter (admin).', 200, 'mgmt',
          request_schema=datastore_schemas.parameter, response_key='name',
          admin=True),
    Route('DELETE', _MGMT_PARAMS + '/{name}', 'mgmtDeleteParameter',
          'Delete a configuration parameter (admin).', 204, 'mgmt',
          admin=True),
    Route('GET', '/mgmt/quotas/{project_id}', 'showQuotas',
          "Show a project's quotas (its members or an admin).", 200, 'mgmt',
          response_key='quotas'),
    Route('PUT', '/mgmt/quotas/{project_id}', 'updateQuotas',
          "Change a project's quotas (admin).", 200, 'mgmt',
          request_schema=quota_schemas.quota_update, response_key='quotas',
          admin=True),
    Route('GET', '/mgmt/instances', 'mgmtListInstances',
          'List the instances of every project (admin).', 200, 'mgmt',
          response_key='instances', admin=True,
          query=('limit', 'marker', 'include_clustered', 'project_id')),
    Route('GET', '/mgmt/instances/{instance_id}', 'mgmtShowInstance',
          'Show an instance with its server and volume (admin).', 200,
          'mgmt', response_key='instance', admin=True),
    Route('POST', '/mgmt/instances/{instance_id}/action',
          'mgmtInstanceAction',
          'Stop, reboot, reset the task of or rebuild an instance '
          '(admin).', 202, 'mgmt', request_schema=instance_schemas.
          mgmt_action, admin=True),
)
