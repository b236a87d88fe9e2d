"""Migrations on SQLite files: phases, version strings, data migrations."""
import types

import fixtures
import sqlalchemy as sa
import testtools

from trove_clone.common import exception
from trove_clone.db import migration


class MigrationTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        path = self.useFixture(fixtures.TempDir()).join('m.sqlite')
        self.engine = sa.create_engine('sqlite:///%s' % path)
        self.addCleanup(self.engine.dispose)

    def test_phases_and_versions(self) -> None:
        self.assertIsNone(migration.version_string(self.engine))
        self.assertRaises(exception.DatabaseMigrationError,
                          migration.migrate, self.engine)
        latest = migration.latest_heads()
        migration.expand(self.engine)
        heads = migration.current_heads(self.engine)
        self.assertEqual(latest['expand'], heads['expand'])
        self.assertIsNone(heads['contract'])
        migration.contract(self.engine)
        self.assertEqual(latest, migration.current_heads(self.engine))
        self.assertEqual('%(expand)s, %(contract)s' % latest,
                         migration.version_string(self.engine))

    def test_upgrade_to_a_revision_and_to_heads(self) -> None:
        migration.upgrade('2026_1_expand01', self.engine)
        self.assertEqual('2026_1_expand01, base',
                         migration.version_string(self.engine))
        migration.upgrade('heads', self.engine)
        self.assertEqual(migration.latest_heads(),
                         migration.current_heads(self.engine))
        self.assertRaises(exception.DatabaseMigrationError,
                          migration.upgrade, 'nosuch', self.engine)

    def planted(self, rows: list) -> types.SimpleNamespace:
        def has_migrations(connection) -> bool:
            return connection.execute(sa.text(
                "SELECT count(*) FROM quotas WHERE resource = 'old'")
            ).scalar() > 0

        def migrate(connection) -> int:
            rows.append('ran')
            return connection.execute(sa.text(
                "UPDATE quotas SET resource = 'instances' "
                "WHERE resource = 'old'")).rowcount

        return types.SimpleNamespace(
            __name__='trove_clone.db.migration.data_migrations.planted',
            REVISION='2026_1_expand01', has_migrations=has_migrations,
            migrate=migrate)

    def test_data_migrations_run_once_and_gate_contract(self) -> None:
        migration.expand(self.engine)
        with self.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO quotas (id, tenant_id, resource, hard_limit, "
                "created, updated) VALUES ('q', 'p', 'old', 1, "
                "'2026-01-01', '2026-01-01')"))
        ran: list = []
        module = self.planted(ran)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.db.migration.data_migrations.load',
            lambda names=None: [module]))
        self.assertEqual(['planted'],
                         migration.pending_data_migrations(self.engine))
        error = self.assertRaises(exception.DatabaseMigrationError,
                                  migration.contract, self.engine)
        self.assertIn('db_migrate', error.message)
        self.assertEqual(1, migration.migrate(self.engine))
        self.assertEqual(0, migration.migrate(self.engine))
        self.assertEqual(['ran'], ran)
        migration.contract(self.engine)
        self.assertEqual(migration.latest_heads(),
                         migration.current_heads(self.engine))
