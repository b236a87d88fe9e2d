"""Trove's error envelope."""
import testtools

from trove_clone.common import exception


class ExceptionTest(testtools.TestCase):

    def test_envelope_names(self) -> None:
        self.assertEqual({'itemNotFound': {'code': 404, 'message': 'm'}},
                         exception.error_body(404, 'm'))
        self.assertEqual('unprocessableEntity', exception.error_name(422))
        self.assertEqual('badRequest', exception.error_name(418))
        self.assertEqual('instanceFault', exception.error_name(599))

    def test_message_template(self) -> None:
        error = exception.DatastoreNotFound(datastore='mysql')
        self.assertEqual('Datastore mysql cannot be found.', error.message)
        self.assertEqual(404, error.code)
        self.assertEqual('plain', exception.BadRequest('plain').message)
        self.assertEqual(exception.DatastoreNotFound.message_template,
                         exception.DatastoreNotFound().message)
