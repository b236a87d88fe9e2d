"""Rules of the datastore catalogue (shared by trove-manage and the API)."""
from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.services import datastores as service
from trove_clone.tests.unit import base

IMAGE = '11111111-2222-3333-4444-555555555555'


class UpsertVersionTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE, tags=['trove', 'mysql'])

    def snapshot(self):
        return (db_api.datastore_list(self.context),
                db_api.datastore_version_list(self.context))

    def test_unknown_datastore_refused_without_create(self) -> None:
        self.assertRaises(exception.DatastoreNotFound, service.upsert_version,
                          self.context, 'mysql', '5.5', 'mysql', IMAGE, '',
                          True)
        self.assertEqual(([], []), self.snapshot())

    def test_create_then_update_same_name_and_number(self) -> None:
        db_api.datastore_create_or_update(self.context, 'mysql')
        first, created = service.upsert_version(
            self.context, 'mysql', 'mysql-5.5', 'mysql', IMAGE, 'pkg1', True)
        self.assertTrue(created)
        self.assertEqual('mysql-5.5', first['version'])
        second, created = service.upsert_version(
            self.context, 'mysql', 'mysql-5.5', 'mariadb', None, '', False,
            image_tags=['trove', 'mysql'])
        self.assertFalse(created)
        self.assertEqual(first['id'], second['id'])
        self.assertEqual('mariadb', second['manager'])
        self.assertIsNone(second['image_id'])
        self.assertEqual('trove,mysql', second['image_tags'])
        self.assertFalse(second['active'])

    def test_image_checked_before_writing(self) -> None:
        for image_id, tags, error in (
                ('99999999-2222-3333-4444-555555555555', [],
                 exception.ImageNotFound),
                ('', ['trove', 'postgresql'], exception.ImageNotFound),
                ('', [], exception.ImageRequired)):
            self.assertRaises(error, service.upsert_version, self.context,
                              'pg', '15', 'postgresql', image_id, '', True,
                              image_tags=tags, create_datastore=True)
            self.assertEqual(([], []), self.snapshot())

    def test_inactive_default_refused(self) -> None:
        self.assertRaises(exception.DatastoreVersionInactive,
                          service.upsert_version, self.context, 'mysql',
                          '5.7', 'mysql', IMAGE, '', False,
                          create_datastore=True, make_default=True)
        self.assertEqual(([], []), self.snapshot())

    def test_deactivating_the_default_keeps_it(self) -> None:
        """As Trove: trove-manage datastore_version_update ... 0 hides the
        version; it stays the default, usable once active again."""
        version, _ = service.upsert_version(
            self.context, 'mysql', '5.7', 'mysql', IMAGE, '', True,
            create_datastore=True, make_default=True)
        self.assertTrue(version['default'])
        version, _ = service.upsert_version(
            self.context, 'mysql', '5.7', 'mysql', IMAGE, '', False)
        self.assertFalse(version['active'])
        self.assertTrue(version['default'])
        version, _ = service.upsert_version(
            self.context, 'mysql', '5.7', 'mysql', IMAGE, '', True)
        self.assertTrue(version['default'])
        self.assertEqual(version['id'], service.version_or_default(
            self.context, 'mysql', None)['id'])

    def test_a_disabled_default_is_not_used(self) -> None:
        """Seed 001 disables the default it made; seed 003 then names
        only the datastore: the newest active version serves it."""
        service.upsert_version(
            self.context, 'mysql', 'mysql-5.5', 'mysql', IMAGE, '', True,
            create_datastore=True)
        newer, _ = service.upsert_version(
            self.context, 'mysql', '5.6', 'mysql', IMAGE, '', True)
        default, _ = service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE, '', True,
            make_default=True)
        service.upsert_version(self.context, 'mysql', '5.7.29', 'mysql',
                               IMAGE, '', False)
        self.assertEqual(newer['id'], service.version_or_default(
            self.context, 'mysql', None)['id'])
        for version in ('mysql-5.5', '5.6'):
            service.upsert_version(self.context, 'mysql', version, 'mysql',
                                   IMAGE, '', False)
        # None active: the default, which the caller refuses as inactive.
        self.assertEqual(default['id'], service.version_or_default(
            self.context, 'mysql', None)['id'])

    def test_empty_names_refused(self) -> None:
        for datastore, name, manager, what in (
                ('', '5.7', 'mysql', 'datastore name'),
                ('mysql', '', 'mysql', 'version name'),
                ('mysql', '5.7', ' ', 'manager')):
            error = self.assertRaises(
                exception.BadRequest, service.upsert_version, self.context,
                datastore, name, manager, IMAGE, '', True,
                create_datastore=True)
            self.assertIn(what, error.message)
        self.assertRaises(exception.BadRequest, service.update_datastore,
                          self.context, '', '')
        self.assertEqual(([], []), self.snapshot())


class UpdateDatastoreTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE)

    def test_create_with_no_default_then_set_it(self) -> None:
        ds = service.update_datastore(self.context, 'mysql', '')
        self.assertIsNone(ds['default_version_id'])
        version, _ = service.upsert_version(
            self.context, 'mysql', 'mysql-5.5', 'mysql', IMAGE, '', True)
        ds = service.update_datastore(self.context, 'mysql', 'mysql-5.5')
        self.assertEqual(version['id'], ds['default_version_id'])
        ds = service.update_datastore(self.context, 'mysql', '')
        self.assertIsNone(ds['default_version_id'])

    def test_unknown_or_inactive_default_changes_nothing(self) -> None:
        self.assertRaises(exception.DatastoreNotFound,
                          service.update_datastore, self.context, 'nosuch',
                          '1.0')
        self.assertEqual([], db_api.datastore_list(self.context))
        service.update_datastore(self.context, 'mysql', '')
        service.upsert_version(self.context, 'mysql', 'old', 'mysql', IMAGE,
                               '', False)
        self.assertRaises(exception.DatastoreVersionInactive,
                          service.update_datastore, self.context, 'mysql',
                          'old')
        self.assertRaises(exception.DatastoreNoVersion,
                          service.update_datastore, self.context, 'mysql',
                          'nosuch')
        self.assertIsNone(db_api.datastore_get(
            self.context, 'mysql')['default_version_id'])


class EditVersionTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE, tags=['trove', 'mysql'])
        self.version, _ = service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE, '', True,
            create_datastore=True, make_default=True)

    def test_tags_only_drop_the_image_id(self) -> None:
        edited = service.edit_version(self.context, self.version['id'],
                                      {'image_tags': ['trove', 'mysql']})
        self.assertIsNone(edited['image_id'])
        self.assertEqual('trove,mysql', edited['image_tags'])

    def test_fields(self) -> None:
        edited = service.edit_version(self.context, self.version['id'], {
            'name': 'renamed', 'datastore_manager': 'mariadb',
            'packages': ['a', 'b'], 'registry_ext': {'k': 'v'},
            'repl_strategy': 'x', 'default': False})
        self.assertEqual('renamed', edited['name'])
        self.assertEqual('mariadb', edited['manager'])
        self.assertEqual('a,b', edited['packages'])
        self.assertEqual('{"k": "v"}', edited['registry_ext'])
        self.assertFalse(edited['default'])

    def test_disable_and_enable_keep_the_default(self) -> None:
        """openstack datastore version set --disable, then --enable."""
        edited = service.edit_version(self.context, self.version['id'],
                                      {'active': False})
        self.assertEqual((False, True), (edited['active'],
                                         edited['default']))
        self.assertEqual(self.version['id'], db_api.datastore_get(
            self.context, 'mysql')['default_version_id'])
        edited = service.edit_version(self.context, self.version['id'],
                                      {'active': True})
        self.assertEqual((True, True), (edited['active'],
                                        edited['default']))

    def test_default_false_clears_it(self) -> None:
        edited = service.edit_version(self.context, self.version['id'],
                                      {'default': False})
        self.assertFalse(edited['default'])
        self.assertIsNone(db_api.datastore_get(
            self.context, 'mysql')['default_version_id'])

    def test_default_and_inactive_conflict(self) -> None:
        self.assertRaises(exception.DatastoreVersionInactive,
                          service.edit_version, self.context,
                          self.version['id'],
                          {'active': False, 'default': True})
        self.assertTrue(db_api.datastore_version_get(
            self.context, self.version['id'])['active'])


class CatalogueCacheTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE)
        service.upsert_version(self.context, 'mysql', '5.7', 'mysql', IMAGE,
                               '', True, create_datastore=True)

    def write_behind_the_cache(self) -> None:
        ds = db_api.datastore_get(self.context, 'mysql')
        db_api.datastore_version_create(self.context, {
            'datastore_id': ds['id'], 'name': '8.0', 'version': '8.0',
            'manager': 'mysql', 'image_id': IMAGE, 'active': True})

    def names(self) -> list:
        [(_ds, versions)] = service.visible_datastores(self.context, False)
        return sorted(v['name'] for v in versions)

    def test_outside_writes_seen_after_the_ttl(self) -> None:
        self.conf.config(datastore_cache_ttl=3600)
        self.assertEqual(['5.7'], self.names())
        self.write_behind_the_cache()
        self.assertEqual(['5.7'], self.names())
        service.invalidate_cache()
        self.assertEqual(['5.7', '8.0'], self.names())

    def test_own_writes_seen_at_once(self) -> None:
        self.conf.config(datastore_cache_ttl=3600)
        self.assertEqual(['5.7'], self.names())
        service.upsert_version(self.context, 'mysql', '8.0', 'mysql', IMAGE,
                               '', True)
        self.assertEqual(['5.7', '8.0'], self.names())

    def test_zero_ttl_disables(self) -> None:
        self.conf.config(datastore_cache_ttl=0)
        self.assertEqual(['5.7'], self.names())
        self.write_behind_the_cache()
        self.assertEqual(['5.7', '8.0'], self.names())


class AssociationsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE)
        service.upsert_version(self.context, 'mysql', '5.7', 'mysql', IMAGE,
                               '', True, create_datastore=True)

    def test_flavor_associations(self) -> None:
        version, added = service.add_associations(
            self.context, 'mysql', '5.7', service.FLAVOR_KEY, ['1', '2'])
        self.assertEqual(['1', '2'], added)
        _, added = service.add_associations(
            self.context, 'mysql', '5.7', service.FLAVOR_KEY, ['2', '3'])
        self.assertEqual(['3'], added)
        service.delete_association(self.context, 'mysql', '5.7',
                                   service.FLAVOR_KEY, '1')
        self.assertEqual(['2', '3'], service.list_associations(
            self.context, version['id'], service.FLAVOR_KEY))
        self.assertRaises(exception.NotFound, service.delete_association,
                          self.context, 'mysql', '5.7', service.FLAVOR_KEY,
                          '1')

    def test_unknown_flavor_refused(self) -> None:
        self.assertRaises(exception.FlavorNotFound, service.add_associations,
                          self.context, 'mysql', '5.7', service.FLAVOR_KEY,
                          ['1', '999'])
        version = db_api.datastore_version_find(self.context, 'mysql', '5.7')
        self.assertEqual([], service.list_associations(
            self.context, version['id'], service.FLAVOR_KEY))

    def test_volume_types_are_free_text(self) -> None:
        version, added = service.add_associations(
            self.context, 'mysql', '5.7', service.VOLUME_TYPE_KEY, ['ssd'])
        self.assertEqual(['ssd'], added)


class DeleteVersionTest(base.TestCase):
    """A version is deleted only when nothing refers to it; otherwise a
    400 that says what does (never the database's foreign key error)."""

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE, tags=['trove', 'mysql'])
        self.version, _ = service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE, '', True,
            create_datastore=True)

    def add_instance(self) -> None:
        db_instances.create(self.context, {
            'id': 'inst-1', 'name': 'db1', 'tenant_id': 'p',
            'flavor_id': '1', 'volume_size': 1,
            'datastore_version_id': self.version['id']}, {}, {})

    def test_unused_version_goes(self) -> None:
        service.delete_version(self.context, self.version['id'])
        self.assertEqual([], db_api.datastore_version_list(self.context))

    def test_live_instance_refuses(self) -> None:
        self.add_instance()
        error = self.assertRaises(exception.DatastoreVersionsInUse,
                                  service.delete_version, self.context,
                                  self.version['id'])
        self.assertIn('1 instances use it', str(error))

    def test_deleted_instance_record_refuses_with_advice(self) -> None:
        self.add_instance()
        db_instances.mark_deleted(self.context, 'inst-1')
        error = self.assertRaises(exception.DatastoreVersionsInUse,
                                  service.delete_version, self.context,
                                  self.version['id'])
        self.assertEqual(400, error.code)
        self.assertIn('deactivate it instead', str(error))
        self.assertEqual(1, len(db_api.datastore_version_list(
            self.context)))
