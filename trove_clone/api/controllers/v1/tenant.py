"""/v1.0/{tenant}: the resources of one project."""
from trove_clone.api.controllers.v1 import backups as backup_routes
from trove_clone.api.controllers.v1 import clusters
from trove_clone.api.controllers.v1 import configurations
from trove_clone.api.controllers.v1 import datastores
from trove_clone.api.controllers.v1 import flavors
from trove_clone.api.controllers.v1 import instances
from trove_clone.api.controllers.v1 import limits
from trove_clone.api.controllers.v1 import mgmt
from trove_clone.api.controllers.v1 import modules


class TenantController:
    """The tenant segment was checked against the caller's project by
    ContextMiddleware before routing gets here."""

    backups = backup_routes.BackupsController()
    backup_strategies = backup_routes.BackupStrategiesController()
    clusters = clusters.ClustersController()
    configurations = configurations.ConfigurationsController()
    datastores = datastores.DatastoresController()
    flavors = flavors.FlavorsController()
    instances = instances.InstancesController()
    limits = limits.LimitsController()
    mgmt = mgmt.MgmtController()
    modules = modules.ModulesController()
