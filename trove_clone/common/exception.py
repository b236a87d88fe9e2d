"""Exceptions of trove_clone.

Every error a user can cause is a subclass of :class:`TroveError` carrying
the HTTP status it maps to and a message the user can act on. The API turns
them into Trove's error envelope, ``{"<name>": {"code": N, "message": ...}}``.
"""
from typing import Any

#: Trove's envelope names by HTTP status.
ERROR_NAMES = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'badMethod',
    406: 'notAcceptable',
    409: 'conflictingRequest',
    413: 'overLimit',
    415: 'badMediaType',
    422: 'unprocessableEntity',
    500: 'instanceFault',
    501: 'notImplemented',
    503: 'serviceUnavailable',
}


def error_name(code: int) -> str:
    """The envelope key Trove uses for an HTTP status."""
    if code in ERROR_NAMES:
        return ERROR_NAMES[code]
    return 'badRequest' if code < 500 else 'instanceFault'


def error_body(code: int, message: str) -> dict:
    """Trove's error envelope for ``code`` and ``message``."""
    return {error_name(code): {'code': code, 'message': message}}


class TroveError(Exception):
    """Base class: ``message_template`` formatted with the keyword args."""

    code = 500
    message_template = 'An unknown error occurred.'

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.message_template % kwargs
            except (KeyError, TypeError, ValueError):
                message = self.message_template
        self.message = message
        super().__init__(message)


class BadRequest(TroveError):
    code = 400
    message_template = 'The server could not comply with the request.'


class ValidationError(BadRequest):
    message_template = 'Validation error: %(detail)s'


class Unauthorized(TroveError):
    code = 401
    message_template = 'Authentication is required.'


class Forbidden(TroveError):
    code = 403
    message_template = 'You are not allowed to perform this action.'


class PolicyNotAuthorized(Forbidden):
    message_template = "Policy doesn't allow %(action)s to be performed."


class TenantMismatch(Forbidden):
    message_template = ('User with tenant id %(project_id)s cannot access '
                        'this resource.')


class AdminRequired(Forbidden):
    message_template = 'This action is restricted to administrators.'


class NotFound(TroveError):
    code = 404
    message_template = 'Resource %(id)s cannot be found.'


class RouteNotFound(NotFound):
    message_template = 'The resource could not be found.'


class DatastoreNotFound(NotFound):
    message_template = 'Datastore %(datastore)s cannot be found.'


class DatastoreVersionNotFound(NotFound):
    message_template = 'Datastore version %(version)s cannot be found.'


class DatastoreDefaultVersionNotFound(NotFound):
    message_template = ('Default version for datastore %(datastore)s not '
                        'found.')


class DatastoreNoVersion(NotFound):
    message_template = 'Datastore %(datastore)s has no version %(version)s.'


class ConfigurationParameterNotFound(NotFound):
    message_template = 'Configuration parameter %(name)s cannot be found.'


class FlavorNotFound(NotFound):
    message_template = 'Flavor %(uuid)s cannot be found.'


class ImageNotFound(NotFound):
    message_template = 'Image %(uuid)s cannot be found.'


class VolumeNotFound(NotFound):
    message_template = 'Volume %(volume)s cannot be found.'


class ServerNotFound(NotFound):
    message_template = 'Server %(server)s cannot be found.'


class ImageCorrupt(TroveError):
    message_template = ('The data of image %(uuid)s does not match its '
                        'checksum.')


class InstanceNotFound(NotFound):
    message_template = 'Instance %(instance)s cannot be found.'


class QuotaResourceUnknown(NotFound):
    message_template = 'Unknown quota resources %(unknown)s.'


class MethodNotAllowed(TroveError):
    code = 405
    message_template = 'The method %(method)s is not allowed for %(path)s.'


class NotAcceptable(TroveError):
    code = 406
    message_template = 'The requested API version %(version)s is not served.'


class Conflict(TroveError):
    code = 409
    message_template = 'The request conflicts with the current state.'


class OverLimit(TroveError):
    code = 413
    message_template = 'The request exceeds a limit.'


class RequestTooLarge(OverLimit):
    message_template = 'The request body is larger than %(limit)d bytes.'


class VolumeLimitExceeded(OverLimit):
    message_template = ('A %(size)d GB volume does not fit: the volume pool '
                        'has %(free)d GB free of %(pool)d GB.')


class VolumeSizeTooLarge(OverLimit):
    message_template = ('Volume size %(size)s GB cannot exceed the maximum '
                        'volume size of %(maximum)s GB.')


class NoValidHost(TroveError):
    message_template = ('No valid host: flavor %(flavor)s needs %(ram)d MB '
                        'of RAM; the host has %(host)d MB.')


class AddressPoolExhausted(OverLimit):
    message_template = 'No free address is left in the pool %(pool)s.'


class QuotaExceeded(OverLimit):
    message_template = 'Quota exceeded for resources: %(overs)s.'


class UnsupportedMediaType(TroveError):
    code = 415
    message_template = 'Unsupported media type %(content_type)s: send JSON.'


class UnprocessableEntity(TroveError):
    code = 422
    message_template = 'Unable to process the contained request.'


class NotImplementedYet(TroveError):
    code = 501
    message_template = 'The operation %(operation)s is not implemented.'


class ServiceUnavailable(TroveError):
    code = 503
    message_template = 'The service is unavailable; try again later.'


class MessagingUnavailable(ServiceUnavailable):
    """A cast or call could not be handed to the message broker within
    its bound (``rpc_cast_timeout``): nothing was sent."""

    message_template = ('%(service)s could not be reached: the message '
                        'broker did not take %(method)s within %(timeout)s '
                        'seconds (%(reason)s). Nothing was sent; try again '
                        'when the broker is back.')


class DatastoreOperationNotSupported(TroveError):
    code = 501
    message_template = ('The %(operation)s operation is not supported for '
                        'the %(datastore)s datastore.')


# --- errors of the datastore catalogue -------------------------------------

class DatastoreVersionAlreadyExists(BadRequest):
    message_template = ('A datastore version with the name %(name)s and '
                        'version number %(version)s already exists for '
                        'datastore %(datastore)s.')


class DatastoreVersionsInUse(BadRequest):
    message_template = 'Datastore version %(version)s is in use: %(reason)s.'


class DatastoreVersionInactive(BadRequest):
    message_template = 'Datastore version %(version)s is not active.'


class DatastoreVersionsExist(BadRequest):
    message_template = ('Datastore %(datastore)s cannot be deleted while it '
                        'has versions.')


class AmbiguousDatastoreVersion(BadRequest):
    message_template = ('Datastore %(datastore)s has several versions named '
                        '%(version)s (version numbers %(numbers)s): give '
                        'the version number or the version id.')


class ImageRequired(BadRequest):
    message_template = ('A datastore version needs an image id or image '
                        'tags.')


class FlavorExists(BadRequest):
    message_template = 'Flavor %(id)s (%(name)s) exists already.'


class ConfigurationParameterAlreadyExists(BadRequest):
    message_template = ('Configuration parameter %(name)s already exists for '
                        'datastore version %(version)s.')


class InvalidRulesFile(BadRequest):
    message_template = 'Invalid validation rules file %(path)s: %(reason)s'


class ConfigurationNotSupported(UnprocessableEntity):
    message_template = ('Configuration groups are not supported for '
                        'datastore %(datastore)s version %(version)s: no '
                        'configuration parameters are loaded for it.')


class VolumeOperationFailed(TroveError):
    message_template = 'Volume %(volume)s: %(operation)s failed: %(reason)s'


class DatabaseMigrationError(TroveError):
    message_template = 'Database migration failed: %(reason)s'


class DowngradeNotSupported(TroveError):
    code = 400
    message_template = ('Database downgrades are not supported. To go back '
                        'to an earlier schema, restore the control database '
                        'from the backup taken before the upgrade.')


# --- errors of instances, users and databases -----------------------------

class InstanceFault(TroveError):
    message_template = 'Instance %(instance)s: %(reason)s'


class InstanceNotReady(UnprocessableEntity):
    message_template = ('Instance %(instance)s is not ready: its status is '
                        '%(status)s.')


class InstanceBusy(UnprocessableEntity):
    message_template = ('Instance %(instance)s is busy: %(task)s is in '
                        'progress; try again when it ends.')


class GuestTimeout(TroveError):
    code = 500
    message_template = ('The guest agent of instance %(instance)s did not '
                        'answer %(method)s within %(timeout)d seconds.')


class GuestError(TroveError):
    message_template = ('The guest agent of instance %(instance)s failed '
                        '%(method)s: %(reason)s')


class DatabaseNotFound(NotFound):
    message_template = 'Database %(name)s cannot be found on the instance.'


class UserNotFound(NotFound):
    message_template = 'User %(name)s cannot be found on the instance.'


class DatabaseAlreadyExists(BadRequest):
    message_template = 'A database with the name %(name)s already exists.'


class UserAlreadyExists(BadRequest):
    message_template = 'A user with the name %(name)s already exists.'


class DuplicateInRequest(BadRequest):
    message_template = ('Two or more %(kind)s share the name %(name)s in the '
                        'request.')


class InvalidName(BadRequest):
    message_template = 'Invalid %(kind)s name %(name)r: %(reason)s'


class RootNotEnabled(BadRequest):
    message_template = 'The root user is not enabled on the instance.'


# --- errors of configuration groups ----------------------------------------

class ConfigurationNotFound(NotFound):
    message_template = 'Configuration group %(id)s cannot be found.'


class ConfigurationInUse(BadRequest):
    message_template = ('Configuration group %(id)s cannot be deleted while '
                        '%(count)d instance(s) use it: detach it first.')


class InvalidConfigurationValue(UnprocessableEntity):
    message_template = 'Invalid configuration value: %(reason)s'


# --- modules -----------------------------------------------------------------

class ModuleNotFound(NotFound):
    message_template = 'Module %(id)s cannot be found.'


class ModuleTypeNotFound(NotFound):
    message_template = ("Module type '%(module_type)s' was not found: the "
                        'types allowed here (module_types) are %(allowed)s.')


class ModuleAlreadyExists(BadRequest):
    message_template = ("A module named '%(name)s' of type '%(module_type)s' "
                        'already exists for this tenant and datastore.')


class ModuleAccessForbidden(Forbidden):
    message_template = ('Only an administrator may %(action)s: %(options)s.')


class ModuleAppliedToInstance(Forbidden):
    message_template = ("Module %(id)s is applied to %(count)d instance(s) "
                        'with its current contents and is not live_update: '
                        'it cannot be %(action)s. Remove it from those '
                        'instances or set live_update first.')


class ModuleInvalid(BadRequest):
    message_template = 'The module is not valid here: %(reason)s'


# --- errors a guest's engine raises, as the API answers them ---------------

class GuestEngineError(UnprocessableEntity):
    message_template = ('The datastore of instance %(instance)s refused '
                        '%(method)s: %(reason)s')


class GuestRequestRefused(BadRequest):
    message_template = ('The guest agent of instance %(instance)s refused '
                        '%(method)s: %(reason)s')


# --- deployment secrets ------------------------------------------------------

class DeploymentSecretMissing(TroveError):
    message_template = ('The key file %(path)s is missing or empty: copy it '
                        'from the host where trove-manage db_sync ran (every '
                        'trove-api, trove-taskmanager and trove-conductor '
                        'host needs the same key), run trove-manage db_sync '
                        'on a new deployment, or set %(option)s.')


# --- module types, uniqueness (issue 12) -------------------------------------

class ModuleTypeAdminOnly(Forbidden):
    message_template = ("Module type '%(module_type)s' may only be "
                        '%(action)s by an administrator '
                        '(admin_only_module_types).')


class ConfigurationAlreadyExists(BadRequest):
    message_template = ("A configuration group named '%(name)s' already "
                        'exists for this tenant.')


class RPCRefused(Forbidden):
    message_template = 'Refused RPC %(method)s: %(reason)s.'


# --- backups (issue 15) ------------------------------------------------------

class BackupNotFound(NotFound):
    message_template = 'Backup %(backup)s cannot be found.'


class BackupFileNotFound(NotFound):
    message_template = ('Backup file in %(location)s was not found in the '
                        'object storage.')


class BackupStorageError(TroveError):
    message_template = 'Backup storage failed: %(reason)s'


class BackupNotCompleteError(Conflict):
    message_template = ('Unable to create instance because backup '
                        '%(backup_id)s is not completed. Actual state: '
                        '%(state)s.')


class RestoreBackupIntegrityError(Conflict):
    message_template = ('Backup %(backup_id)s cannot be restored: '
                        '%(reason)s')


class BackupTooLarge(Forbidden):
    message_template = ('Backup is too large for given flavor or volume. '
                        'Backup size: %(backup_size)s GBs. Available size: '
                        '%(disk_size)s GBs.')


class ClusterNotFound(NotFound):
    message_template = 'Cluster %(cluster)s cannot be found.'


class ClusterDatastoreNotSupported(TroveError):
    code = 501
    message_template = ('Clusters not supported for %(datastore)s-'
                        '%(datastore_version)s.')


class ClusterInstanceOperationNotSupported(TroveError):
    code = 501
    message_template = 'Operation not supported for instances that are ' \
        'part of a cluster.'


# --- guest logs (issue 19) ---------------------------------------------------

class LogsNotAvailable(TroveError):
    code = 501
    message_template = ('Log actions are not supported: %(reason)s')


class LogAccessForbidden(Forbidden):
    message_template = ("User does not have admin privileges to '%(action)s' "
                        "the '%(log)s' log.")


class GuestLogNotFound(NotFound):
    message_template = "Log '%(log)s' is not defined."


class LogStorageUnavailable(TroveError):
    code = 503
    message_template = 'The object store of the guest logs failed: %(reason)s'
