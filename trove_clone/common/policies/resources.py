"""Rules per resource, named as Trove names them."""
from oslo_policy import policy

from trove_clone.common.policies.base import RULE_ADMIN
from trove_clone.common.policies.base import RULE_ADMIN_OR_OWNER
from trove_clone.common.policies.base import RULE_ANY

PATH = '/v1.0/{account_id}'


def _rule(name: str, check: str, method: str, path: str,
          description: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': PATH + path}])


_INSTANCE = [
    ('create', 'POST', '/instances', 'Create a database instance.'),
    ('delete', 'DELETE', '/instances/{instance_id}', 'Delete an instance.'),
    ('force_delete', 'POST', '/instances/{instance_id}/action',
     'Reset the status of an instance to delete it (reset_status with '
     'force_delete); instance:reset_status is checked as well.'),
    ('index', 'GET', '/instances', 'List instances.'),
    ('detail', 'GET', '/instances/detail', 'List instances with details.'),
    ('show', 'GET', '/instances/{instance_id}', 'Show an instance.'),
    ('update', 'PUT', '/instances/{instance_id}',
     'Rename an instance, attach or detach a configuration, detach a '
     'replica, upgrade, change access.'),
    ('edit', 'PATCH', '/instances/{instance_id}',
     'Update an instance (PATCH).'),
    ('restart', 'POST', '/instances/{instance_id}/action',
     'Restart the database of an instance.'),
    ('resize_volume', 'POST', '/instances/{instance_id}/action',
     'Grow the volume of an instance.'),
    ('resize_flavor', 'POST', '/instances/{instance_id}/action',
     'Change the flavor of an instance.'),
    ('promote_to_replica_source', 'POST', '/instances/{instance_id}/action',
     'Promote a replica to be the replication source.'),
    ('eject_replica_source', 'POST', '/instances/{instance_id}/action',
     'Eject a dead replication source.'),
    ('configuration', 'GET', '/instances/{instance_id}/configuration',
     "Show an instance's default configuration."),
    ('guest_log_list', 'GET', '/instances/{instance_id}/log',
     'List guest logs.'),
    ('backups', 'GET', '/instances/{instance_id}/backups',
     "List an instance's backups."),
    ('module_list', 'GET', '/instances/{instance_id}/modules',
     'List the modules of an instance.'),
    ('module_apply', 'POST', '/instances/{instance_id}/modules',
     'Apply modules to an instance.'),
    ('module_remove', 'DELETE', '/instances/{instance_id}/modules/{id}',
     'Remove a module from an instance.'),
]

_EXTENSIONS = [
    ('root:create', 'POST', '/instances/{instance_id}/root', 'Enable root.'),
    ('root:delete', 'DELETE', '/instances/{instance_id}/root',
     'Disable root.'),
    ('root:index', 'GET', '/instances/{instance_id}/root',
     'Show whether root is enabled.'),
    ('user:create', 'POST', '/instances/{instance_id}/users',
     'Create users.'),
    ('user:delete', 'DELETE', '/instances/{instance_id}/users/{user}',
     'Delete a user.'),
    ('user:index', 'GET', '/instances/{instance_id}/users', 'List users.'),
    ('user:show', 'GET', '/instances/{instance_id}/users/{user}',
     'Show a user.'),
    ('user:update', 'PUT', '/instances/{instance_id}/users/{user}',
     'Update the attributes of a user.'),
    ('user:update_all', 'PUT', '/instances/{instance_id}/users',
     'Change the passwords of users.'),
    ('user_access:update', 'PUT',
     '/instances/{instance_id}/users/{user}/databases', 'Grant access.'),
    ('user_access:delete', 'DELETE',
     '/instances/{instance_id}/users/{user}/databases/{database}',
     'Revoke access.'),
    ('user_access:index', 'GET',
     '/instances/{instance_id}/users/{user}/databases', 'Show access.'),
    ('database:create', 'POST', '/instances/{instance_id}/databases',
     'Create databases.'),
    ('database:delete', 'DELETE',
     '/instances/{instance_id}/databases/{database}', 'Delete a database.'),
    ('database:index', 'GET', '/instances/{instance_id}/databases',
     'List databases.'),
    ('database:show', 'GET', '/instances/{instance_id}/databases/{database}',
     'Show a database.'),
]

_OWNER_RULES = (
    [('instance:%s' % name, method, path, desc)
     for name, method, path, desc in _INSTANCE] +
    [('instance:extension:%s' % name, method, path, desc)
     for name, method, path, desc in _EXTENSIONS] +
    [
        ('cluster:extension:root:create', 'POST', '/clusters/{id}/root',
         'Enable root on a cluster.'),
        ('cluster:extension:root:delete', 'DELETE', '/clusters/{id}/root',
         'Disable root on a cluster.'),
        ('cluster:extension:root:index', 'GET', '/clusters/{id}/root',
         'Show whether root is enabled on a cluster.'),
        ('cluster:create', 'POST', '/clusters', 'Create a cluster.'),
        ('cluster:delete', 'DELETE', '/clusters/{id}', 'Delete a cluster.'),
        ('cluster:force_delete', 'POST', '/clusters/{id}',
         'Reset the status of a cluster and delete it.'),
        ('cluster:index', 'GET', '/clusters', 'List clusters.'),
        ('cluster:show', 'GET', '/clusters/{id}', 'Show a cluster.'),
        ('cluster:show_instance', 'GET',
         '/clusters/{id}/instances/{instance}', 'Show a cluster member.'),
        ('cluster:action', 'POST', '/clusters/{id}',
         'Grow, shrink, upgrade, restart or configure a cluster.'),
        ('backup:create', 'POST', '/backups', 'Create a backup.'),
        ('backup:delete', 'DELETE', '/backups/{id}', 'Delete a backup.'),
        ('backup:index', 'GET', '/backups', 'List backups.'),
        ('backup:show', 'GET', '/backups/{id}', 'Show a backup.'),
        ('backup_strategy:create', 'POST', '/backup_strategies',
         'Create a backup strategy.'),
        ('backup_strategy:index', 'GET', '/backup_strategies',
         'List backup strategies.'),
        ('backup_strategy:delete', 'DELETE', '/backup_strategies',
         'Delete backup strategies.'),
        ('configuration:create', 'POST', '/configurations',
         'Create a configuration group.'),
        ('configuration:delete', 'DELETE', '/configurations/{id}',
         'Delete a configuration group.'),
        ('configuration:index', 'GET', '/configurations',
         'List configuration groups.'),
        ('configuration:show', 'GET', '/configurations/{id}',
         'Show a configuration group.'),
        ('configuration:instances', 'GET', '/configurations/{id}/instances',
         'List the instances of a configuration group.'),
        ('configuration:update', 'PUT', '/configurations/{id}',
         'Replace the values of a configuration group.'),
        ('configuration:edit', 'PATCH', '/configurations/{id}',
         'Merge values into a configuration group.'),
        ('configuration-parameter:index', 'GET',
         '/datastores/{ds}/versions/{version}/parameters',
         'List configuration parameters.'),
        ('configuration-parameter:show', 'GET',
         '/datastores/{ds}/versions/{version}/parameters/{name}',
         'Show a configuration parameter.'),
        ('configuration-parameter:index_by_version', 'GET',
         '/datastores/versions/{version}/parameters',
         'List configuration parameters by version id.'),
        ('configuration-parameter:show_by_version', 'GET',
         '/datastores/versions/{version}/parameters/{name}',
         'Show a configuration parameter by version id.'),
        ('limits:index', 'GET', '/limits', 'Show limits.'),
        ('module:create', 'POST', '/modules', 'Create a module.'),
        ('module:delete', 'DELETE', '/modules/{id}', 'Delete a module.'),
        ('module:index', 'GET', '/modules', 'List modules.'),
        ('module:show', 'GET', '/modules/{id}', 'Show a module.'),
        ('module:instances', 'GET', '/modules/{id}/instances',
         'List the instances of a module.'),
        ('module:update', 'PUT', '/modules/{id}', 'Update a module.'),
        ('module:reapply', 'PUT', '/modules/{id}/instances',
         'Reapply a module.'),
    ])

_ANY_RULES = [
    ('datastore:index', 'GET', '/datastores', 'List datastores.'),
    ('datastore:show', 'GET', '/datastores/{datastore}', 'Show a datastore.'),
    ('datastore:version_show', 'GET',
     '/datastores/{datastore}/versions/{version}',
     'Show a datastore version.'),
    ('datastore:version_show_by_uuid', 'GET',
     '/datastores/versions/{version}', 'Show a datastore version by id.'),
    ('datastore:version_index', 'GET', '/datastores/{datastore}/versions',
     'List the versions of a datastore.'),
    ('datastore:list_associated_flavors', 'GET',
     '/datastores/{datastore}/versions/{version}/flavors',
     'List the flavors allowed for a datastore version.'),
    ('datastore:list_associated_volume_types', 'GET',
     '/datastores/{datastore}/versions/{version}/volume-types',
     'List the volume types allowed for a datastore version.'),
    ('flavor:index', 'GET', '/flavors', 'List flavors.'),
    ('flavor:show', 'GET', '/flavors/{id}', 'Show a flavor.'),
]

_ADMIN_RULES = [
    ('instance:reset_status', RULE_ADMIN, 'POST',
     '/instances/{instance_id}/action',
     'Reset the status of an instance, with or without force_delete.'),
    ('cluster:reset-status', RULE_ADMIN, 'POST', '/clusters/{id}',
     'Reset the status of a cluster.'),
    ('datastore:delete', RULE_ADMIN, 'DELETE', '/datastores/{datastore}',
     'Delete a datastore.'),
    ('backup:index:all_projects', 'role:admin', 'GET', '/backups',
     'List the backups of all projects.'),
    ('mgmt:datastore_version', RULE_ADMIN, 'GET',
     '/mgmt/datastore-versions', 'Manage datastore versions (mgmt API).'),
    ('mgmt:configuration_parameter', RULE_ADMIN, 'GET',
     '/mgmt/datastores/versions/{version}/parameters',
     'Manage configuration parameters (mgmt API).'),
    ('mgmt:instance', RULE_ADMIN, 'GET', '/mgmt/instances',
     'Manage instances of every project (mgmt API).'),
    ('mgmt:quota:update', RULE_ADMIN, 'PUT', '/mgmt/quotas/{project}',
     'Change the quotas of a project.'),
    ('mgmt:quota:show', RULE_ADMIN_OR_OWNER, 'GET', '/mgmt/quotas/{project}',
     'Show the quotas of a project.'),
]


def list_rules() -> list:
    rules = [_rule(name, RULE_ADMIN_OR_OWNER, method, path, desc)
             for name, method, path, desc in _OWNER_RULES]
    rules += [_rule(name, RULE_ANY, method, path, desc)
              for name, method, path, desc in _ANY_RULES]
    rules += [_rule(name, check, method, path, desc)
              for name, check, method, path, desc in _ADMIN_RULES]
    return rules
