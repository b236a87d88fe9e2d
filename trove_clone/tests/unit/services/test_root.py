"""services.root: the root-enabled history is written by the service, not
the API, and root delete requires it."""
from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.db import instances as db_instances
from trove_clone.services import datastores as datastore_service
from trove_clone.services import root
from trove_clone.tests.unit import base

IMAGE_ID = '8d3a1ab4-3cb8-4f2c-9a7e-0e1e5a1f3a10'


class RootGuest:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def enable_root(self, context, password):
        self.calls.append(('enable_root', password))
        return {'name': 'root', 'password': password or 'made-up',
                'extra': 'not shown'}

    def disable_root(self, context) -> None:
        self.calls.append(('disable_root',))


class RootTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE_ID, tags=['trove', 'mysql'])
        version, _ = datastore_service.upsert_version(
            self.context, 'mysql', '5.7.29', 'mysql', IMAGE_ID, '', True,
            create_datastore=True, make_default=True)
        db_instances.create(self.context, {
            'id': 'inst-1', 'name': 'db1', 'tenant_id': 'p',
            'flavor_id': '1', 'datastore_version_id': version['id']}, {}, {})
        self.guest = RootGuest()

    def row(self) -> dict:
        return db_instances.get(self.context, 'inst-1')

    def as_user(self, user: str) -> trove_context.TroveContext:
        return trove_context.TroveContext(user_id=user, project_id='p',
                                          roles=['member'])

    def test_enable_remembers_the_first_user(self) -> None:
        self.assertIsNone(self.row()['root_history'])
        user = root.enable(self.as_user('alice'), self.row(), 'pw',
                           self.guest)
        self.assertEqual({'name': 'root', 'password': 'pw'}, user)
        root.enable(self.as_user('bob'), self.row(), None, self.guest)
        self.assertEqual([('enable_root', 'pw'), ('enable_root', None)],
                         self.guest.calls)
        self.assertEqual('alice', self.row()['root_history']['user'])

    def test_a_failed_enable_records_nothing(self) -> None:
        def refuse(context, password):
            raise exception.GuestTimeout(instance='inst-1',
                                         method='enable_root', timeout=15)
        self.guest.enable_root = refuse
        self.assertRaises(exception.GuestTimeout, root.enable,
                          self.as_user('alice'), self.row(), 'pw',
                          self.guest)
        self.assertIsNone(self.row()['root_history'])

    def test_disable_needs_the_history(self) -> None:
        self.assertRaises(exception.NotFound, root.disable,
                          self.context, self.row(), self.guest)
        self.assertEqual([], self.guest.calls)
        root.enable(self.as_user('alice'), self.row(), 'pw', self.guest)
        root.disable(self.context, self.row(), self.guest)
        self.assertEqual(('disable_root',), self.guest.calls[-1])
