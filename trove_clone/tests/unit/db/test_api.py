"""The persistence functions."""
import threading

from sqlalchemy import pool as sa_pool

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.tests.unit import base


class PooledSqliteTest(base.TestCase):

    def test_pooled_connections_work_across_threads(self) -> None:
        engine = db_api.get_engine()
        original = engine.pool
        self.addCleanup(setattr, engine, 'pool', original)
        self.assertTrue(db_api.pool_sqlite_connections(pool_size=2))
        self.assertIsInstance(engine.pool, sa_pool.QueuePool)
        self.assertFalse(db_api.pool_sqlite_connections())
        db_api.datastore_create_or_update(self.context, 'mysql')
        errors = []

        def read() -> None:
            try:
                for _ in range(20):
                    db_api.datastore_get(self.context, 'mysql')
            except Exception as error:  # noqa: B902 - collected for assert
                errors.append(error)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        with engine.connect() as connection:
            foreign_keys = connection.exec_driver_sql(
                'PRAGMA foreign_keys').scalar()
        self.assertEqual(1, foreign_keys)
        engine.pool.dispose()


class InstanceListTest(base.TestCase):

    def test_unknown_marker(self) -> None:
        self.assertRaises(exception.InstanceNotFound, db_api.instance_list,
                          self.context, 'p', 10, marker='nosuch')
