"""Every revision, on SQLite, MariaDB and PostgreSQL: the migrated schema
equals the models, and MySQL's largest bounds round-trip."""
from alembic import autogenerate
from alembic import migration as alembic_migration
import sqlalchemy as sa
import testtools

from trove_clone.db import migration
from trove_clone.db import models
from trove_clone.tests.functional import fixtures as trove_fixtures

BIG = '18446744073709551615'


class _MigrationWalk(testtools.TestCase):

    backend = 'sqlite'

    def setUp(self) -> None:
        super().setUp()
        database = self.useFixture(
            trove_fixtures.ControlDatabase(self.backend))
        self.engine = sa.create_engine(database.url)
        self.addCleanup(self.engine.dispose)

    def diff(self) -> list:
        with self.engine.connect() as connection:
            context_ = alembic_migration.MigrationContext.configure(
                connection, opts={'compare_type': True})
            return autogenerate.compare_metadata(context_,
                                                 models.Base.metadata)

    def revisions(self, branch: str) -> list[str]:
        scripts = migration._scripts()
        return [script.revision for script in reversed(list(
            scripts.iterate_revisions('%s@head' % branch, 'base')))
            if migration.branch_of(script.revision) == branch]

    def test_walk_every_revision_then_compare(self) -> None:
        for revision in self.revisions(migration.EXPAND):
            migration.upgrade(revision, self.engine)
            self.assertEqual(revision,
                             migration.current_heads(self.engine)['expand'])
        migration.migrate(self.engine)
        for revision in self.revisions(migration.CONTRACT):
            migration.upgrade(revision, self.engine)
        self.assertEqual(migration.latest_heads(),
                         migration.current_heads(self.engine))
        self.assertEqual([], self.diff())
        migration.sync(engine=self.engine)
        self.assertEqual([], self.diff())

    def test_unsigned_64_bit_bounds_round_trip(self) -> None:
        migration.sync(engine=self.engine)
        now = models.utcnow()
        with self.engine.begin() as connection:
            connection.execute(models.Datastore.__table__.insert().values(
                id='d1', name='mysql'))
            connection.execute(
                models.DatastoreVersion.__table__.insert().values(
                    id='v1', datastore_id='d1', name='5.7', version='5.7',
                    manager='mysql', active=True, created=now,
                    updated=now))
            connection.execute(
                models.DatastoreConfigurationParameter.__table__.insert()
                .values(id='p1', datastore_version_id='v1',
                        name='max_binlog_cache_size', restart_required=False,
                        data_type='integer', min_size='4096', max_size=BIG,
                        created=now))
            stored = connection.execute(sa.select(
                models.DatastoreConfigurationParameter.max_size)).scalar()
        self.assertEqual(BIG, stored)
        self.assertEqual(18446744073709551615, int(stored))


class SqliteMigrationTest(_MigrationWalk):
    backend = 'sqlite'


class MysqlMigrationTest(_MigrationWalk):
    backend = 'mysql'


class PostgresqlMigrationTest(_MigrationWalk):
    backend = 'postgresql'


del _MigrationWalk
