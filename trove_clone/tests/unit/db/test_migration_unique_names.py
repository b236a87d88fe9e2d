"""2026_2_expand04: the unique_key of the modules and configuration groups
recorded before it, duplicates included."""
import fixtures
import sqlalchemy as sa
import testtools

from trove_clone.db import configurations as db_configurations
from trove_clone.db import migration
from trove_clone.db import models
from trove_clone.db import modules as db_modules

MODULE = {'type': 'ping', 'contents': 'x', 'tenant_id': 'p1',
          'datastore_id': None, 'datastore_version_id': None,
          'auto_apply': False, 'visible': True, 'live_update': False,
          'priority_apply': False, 'apply_order': 5, 'is_admin': False,
          'md5': '0' * 32}


class UniqueNamesMigrationTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        path = self.useFixture(fixtures.TempDir()).join('m.sqlite')
        self.engine = sa.create_engine('sqlite:///%s' % path)
        self.addCleanup(self.engine.dispose)
        migration.upgrade('2026_2_expand03', self.engine)

    def insert(self, table: str, row_id: str, minute: int, **values):
        created = models.utcnow().replace(year=2026, month=1, day=1,
                                          hour=0, minute=minute)
        deleted = values.pop('deleted', False)
        with self.engine.begin() as connection:
            connection.execute(sa.text(
                'INSERT INTO %s (id, created, updated, deleted, %s) VALUES '
                '(:id, :created, :created, :deleted, %s)' % (
                    table, ', '.join(values),
                    ', '.join(':%s' % name for name in values))),
                dict(values, id=row_id, created=created, deleted=deleted))

    def keys(self, table: str) -> dict:
        with self.engine.connect() as connection:
            return dict(connection.execute(sa.text(
                'SELECT id, unique_key FROM %s' % table)).fetchall())

    def test_keys_of_existing_rows(self) -> None:
        self.insert('modules', 'm-new', 2, name='dup', **MODULE)
        self.insert('modules', 'm-old', 1, name='dup', **MODULE)
        self.insert('modules', 'm-gone', 0, name='dup', deleted=True,
                    **MODULE)
        with self.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO datastores (id, name) VALUES ('d1', 'mysql')"))
            connection.execute(sa.text(
                'INSERT INTO datastore_versions (id, datastore_id, name, '
                "version, manager, active, created, updated) VALUES ('v1', "
                "'d1', '5.7', '5.7', 'mysql', 1, '2026-01-01', "
                "'2026-01-01')"))
        for row_id, minute in (('c-old', 1), ('c-new', 2)):
            self.insert('configurations', row_id, minute, name='dup',
                        tenant_id='p1', datastore_version_id='v1')
        migration.upgrade('heads', self.engine)
        modules = self.keys('modules')
        # The oldest live row keeps the name; a later duplicate stays
        # reachable under a key of its own; a deleted row has none.
        self.assertEqual(db_modules.unique_key(dict(MODULE, name='dup')),
                         modules['m-old'])
        self.assertIsNotNone(modules['m-new'])
        self.assertNotEqual(modules['m-old'], modules['m-new'])
        self.assertIsNone(modules['m-gone'])
        groups = self.keys('configurations')
        self.assertEqual(db_configurations.unique_key('p1', 'dup'),
                         groups['c-old'])
        self.assertNotIn(groups['c-new'], (None, groups['c-old']))
        # From now on the index refuses a second live row.
        with self.engine.begin() as connection:
            self.assertRaises(sa.exc.IntegrityError, connection.execute,
                              sa.text("UPDATE modules SET unique_key = :key "
                                      "WHERE id = 'm-new'"),
                              {'key': modules['m-old']})
