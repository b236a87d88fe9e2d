"""trove-status upgrade check: is this deployment ready for the code?"""
import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
import oslo_messaging
import redis
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck
import sqlalchemy as sa

from trove_clone.common import config
from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import migration
from trove_clone.db import models
from trove_clone.services import deployment_secrets
from trove_clone.services import modules as module_service

CONF = cfg.CONF
Code = upgradecheck.Code
Result = upgradecheck.Result


class Checks(upgradecheck.UpgradeCommands):
    """The checks ``trove-status upgrade check`` runs."""

    def _check_schema(self) -> Result:
        try:
            heads = migration.current_heads()
        except (sa.exc.SQLAlchemyError, db_exc.DBError) as error:
            return Result(Code.FAILURE, 'The control database cannot be '
                          'read: %s' % str(error).splitlines()[0])
        latest = migration.latest_heads()
        if heads == latest:
            return Result(Code.SUCCESS, 'Schema at %s, %s.'
                          % (latest['expand'], latest['contract']))
        return Result(Code.FAILURE, 'The schema is at %s, %s but the code '
                      'needs %s, %s: run trove-manage db_sync (or db_expand, '
                      'db_migrate, db_contract).' % (
                          heads['expand'] or 'nothing',
                          heads['contract'] or 'nothing',
                          latest['expand'], latest['contract']))

    def _check_rpc(self) -> Result:
        url = CONF.transport_url
        if not url:
            return Result(Code.FAILURE, 'transport_url is not set: the '
                          'services cannot reach RabbitMQ.')
        try:
            parsed = oslo_messaging.TransportURL.parse(CONF, url)
        except oslo_messaging.InvalidTransportURL as error:
            return Result(Code.FAILURE, 'transport_url is invalid: %s'
                          % error)
        if parsed.transport not in ('rabbit', 'kombu+memory', 'fake'):
            return Result(Code.WARNING, 'transport %s is not tested with '
                          'trove_clone; use rabbit.' % parsed.transport)
        if not parsed.hosts:
            return Result(Code.FAILURE, 'transport_url names no host.')
        return Result(Code.SUCCESS, 'RPC over %s to %s.' % (
            parsed.transport, ', '.join('%s:%s' % (host.hostname, host.port)
                                        for host in parsed.hosts)))

    def _check_running_tasks(self) -> Result:
        try:
            with db_api.get_engine().connect() as connection:
                busy = connection.execute(
                    sa.select(sa.func.count()).select_from(
                        models.Instance.__table__).where(
                        models.Instance.deleted.is_(False),
                        models.Instance.task_id != 1)).scalar()
        except (sa.exc.SQLAlchemyError, db_exc.DBError):
            return Result(Code.WARNING, 'Instances could not be counted.')
        if busy:
            return Result(Code.WARNING, '%d instances have a task running; '
                          'wait for them before upgrading.' % busy)
        return Result(Code.SUCCESS)

    def _check_module_key(self) -> Result:
        try:
            ok, message = module_service.key_check(
                trove_context.admin_context())
        except (sa.exc.SQLAlchemyError, db_exc.DBError,
                exception.TroveError) as error:
            return Result(Code.WARNING, 'Modules could not be read: %s'
                          % str(error).splitlines()[0])
        return Result(Code.SUCCESS if ok else Code.FAILURE, message)

    def _check_deployment_secrets(self) -> Result:
        try:
            ok, message = deployment_secrets.secrets_check(
                trove_context.admin_context())
        except (sa.exc.SQLAlchemyError, db_exc.DBError) as error:
            return Result(Code.FAILURE, 'Instances could not be read: %s'
                          % str(error).splitlines()[0])
        return Result(Code.SUCCESS if ok else Code.FAILURE, message)

    def _check_private_files(self) -> Result:
        ok, message = deployment_secrets.private_files_check()
        return Result(Code.SUCCESS if ok else Code.FAILURE, message)

    def _check_jobboard(self) -> Result:
        """With several taskmanagers, the jobboard must answer and must
        not take jobs from anyone."""
        conf = CONF.taskflow
        if conf.jobboard_backend == 'none':
            return Result(Code.SUCCESS, 'No jobboard: run one '
                          'trove-taskmanager (jobboard_backend = redis for '
                          'several).')
        if not conf.jobboard_redis_password:
            return Result(Code.FAILURE, '[taskflow] jobboard_redis_password '
                          'is not set: anyone who reaches the jobboard at '
                          '%s:%d could have a taskmanager run a flow.' % (
                              conf.jobboard_redis_host,
                              conf.jobboard_redis_port))
        try:
            redis.Redis(host=conf.jobboard_redis_host,
                        port=conf.jobboard_redis_port,
                        password=conf.jobboard_redis_password,
                        db=conf.jobboard_redis_db, socket_timeout=5).ping()
        except redis.RedisError as error:
            return Result(Code.FAILURE, 'The jobboard at %s:%d does not '
                          'answer: %s' % (conf.jobboard_redis_host,
                                          conf.jobboard_redis_port, error))
        return Result(Code.SUCCESS, 'Jobboard at %s:%d.' % (
            conf.jobboard_redis_host, conf.jobboard_redis_port))

    _upgrade_checks = (
        ('Database schema version', _check_schema),
        ('RPC settings', _check_rpc),
        ('Instances with running tasks', _check_running_tasks),
        ('Module key', _check_module_key),
        ('Deployment secrets', _check_deployment_secrets),
        ('Private files', _check_private_files),
        ('Flow jobboard', _check_jobboard),
        ('Policy File JSON to YAML Migration',
         (common_checks.check_policy_json, {'conf': CONF})),
    )


def main(argv: list[str] | None = None) -> int:
    config.register_logging()
    config.register_transport()
    return upgradecheck.main(
        CONF, project='trove', upgrade_command=Checks(),
        argv=sys.argv[1:] if argv is None else argv,
        default_config_files=config.default_config_files())


if __name__ == '__main__':
    sys.exit(main())
