"""The local flavor driver and the Glance image driver."""
from unittest import mock

from glanceclient import exc as glance_exc

from trove_clone.common import exception
from trove_clone import drivers
from trove_clone.drivers.flavor import local
from trove_clone.drivers.image import glance
from trove_clone.tests.unit import base


class LocalFlavorTest(base.TestCase):

    def test_parse_and_sort(self) -> None:
        self.conf.config(flavors=['10:big:4096:4:40', 'x:odd:1:1:1',
                                  '2:small:512:1:5'], group='local')
        flavors = drivers.get('flavor').list()
        self.assertEqual(['2', '10', 'x'], [f['id'] for f in flavors])
        self.assertEqual(4096, drivers.get('flavor').get('10')['ram'])
        self.assertRaises(exception.FlavorNotFound,
                          drivers.get('flavor').get, '3')

    def test_invalid_entry(self) -> None:
        self.assertRaises(ValueError, local.parse_flavor, '1:a:b')
        self.assertRaises(ValueError, local.parse_flavor, '1:a:b:1:1')
        self.conf.config(flavors=['1:tiny'], group='local')
        error = self.assertRaises(exception.TroveError,
                                  local.LocalFlavorDriver().list)
        self.assertIn('[local] flavors', error.message)


class GlanceDriverTest(base.TestCase):

    def test_get_and_tags(self) -> None:
        client = mock.Mock()
        client.images.get.return_value = {'id': 'i1', 'tags': []}
        client.images.list.return_value = iter([{'id': 'newest'}])
        driver = glance.GlanceImageDriver(client)
        self.assertEqual('i1', driver.get('i1')['id'])
        self.assertEqual('newest', driver.find_by_tags(['trove',
                                                        'mysql'])['id'])
        client.images.list.assert_called_once_with(
            filters={'tag': ['trove', 'mysql'], 'status': 'active'},
            sort='created_at:desc', limit=1)

    def test_not_found_and_unreachable(self) -> None:
        client = mock.Mock()
        client.images.get.side_effect = glance_exc.HTTPNotFound()
        client.images.list.return_value = iter([])
        driver = glance.GlanceImageDriver(client)
        self.assertRaises(exception.ImageNotFound, driver.get, 'i1')
        error = self.assertRaises(exception.ImageNotFound,
                                  driver.find_by_tags, ['a', 'b'])
        self.assertIn('a,b', error.message)
        client.images.get.side_effect = glance_exc.CommunicationError()
        error = self.assertRaises(exception.TroveError, driver.get, 'i1')
        self.assertIn('cannot be reached', error.message)
