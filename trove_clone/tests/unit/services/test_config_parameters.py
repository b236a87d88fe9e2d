"""Parsing and loading validation rules files."""
import json
import os

import fixtures

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.services import config_parameters as service
from trove_clone.services import datastores
from trove_clone.tests.unit import base

IMAGE = '11111111-2222-3333-4444-555555555555'
BIG = 18446744073709551615


def rules(*entries) -> str:
    return json.dumps({'configuration-parameters': list(entries)})


class ParseRulesTest(base.TestCase):

    def test_parse(self) -> None:
        rows = service.parse_rules(rules(
            {'name': 'max_binlog_cache_size', 'restart_required': False,
             'min': 4096, 'max': BIG, 'type': 'integer'},
            {'name': 'long_query_time', 'restart_required': False,
             'min': 0, 'max': 31536000.5, 'type': 'float'},
            {'name': 'sql_mode', 'restart_required': False,
             'type': 'string'}), 'f')
        self.assertEqual(str(BIG), rows[0]['max_size'])
        self.assertEqual('0', rows[1]['min_size'])
        self.assertIsNone(rows[2]['max_size'])
        self.assertEqual(BIG, service.number(rows[0]['max_size']))
        self.assertEqual(31536000.5, service.number(rows[1]['max_size']))

    def test_invalid_documents_name_the_problem(self) -> None:
        cases = [
            ('{', 'f'),
            ('[]', 'configuration-parameters'),
            (rules({'restart_required': True, 'type': 'integer'}),
             'entry 0 has no name'),
            (rules({'name': 'x', 'restart_required': True,
                    'type': 'int'}), "x has type 'int'"),
            (rules({'name': 'x', 'restart_required': 1,
                    'type': 'integer'}), 'x needs restart_required'),
            (rules({'name': 'x', 'restart_required': True,
                    'type': 'integer', 'max': '10'}), 'max of x'),
            (rules({'name': 'x', 'restart_required': True,
                    'type': 'integer', 'maximum': 1}), 'unknown keys'),
            (rules({'name': 'x', 'restart_required': True,
                    'type': 'string'},
                   {'name': 'x', 'restart_required': True,
                    'type': 'string'}), 'listed twice'),
        ]
        for text, expected in cases:
            error = self.assertRaises(exception.InvalidRulesFile,
                                      service.parse_rules, text, 'f')
            self.assertIn(expected, error.message)


class LoadRulesTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE)
        self.version, _ = datastores.upsert_version(
            self.context, 'mysql', '5.7', 'mysql', IMAGE, '', True,
            create_datastore=True)
        self.path = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'rules.json')

    def write(self, text: str) -> None:
        with open(self.path, 'w') as rules_file:
            rules_file.write(text)

    def test_load_replace_and_remove(self) -> None:
        self.write(rules({'name': 'a', 'restart_required': True,
                          'type': 'integer', 'min': 0, 'max': BIG}))
        _, count = service.load_rules(self.context, 'mysql', '5.7',
                                      self.path)
        self.assertEqual(1, count)
        param = db_api.config_parameter_get(self.context,
                                            self.version['id'], 'a')
        self.assertEqual(str(BIG), param['max_size'])
        self.write(rules({'name': 'b', 'restart_required': False,
                          'type': 'string'}))
        service.load_rules(self.context, 'mysql', '5.7', self.path)
        names = [p['name'] for p in service.list_for_version(
            self.context, self.version['id'])]
        self.assertEqual(['b'], names)
        _, removed = service.remove_rules(self.context, 'mysql', '5.7')
        self.assertEqual(1, removed)

    def test_bad_file_changes_nothing(self) -> None:
        self.write(rules({'name': 'a', 'restart_required': True,
                          'type': 'integer'}))
        service.load_rules(self.context, 'mysql', '5.7', self.path)
        before = service.list_for_version(self.context, self.version['id'])
        self.write('{"configuration-parameters": [{"name": 1}]}')
        self.assertRaises(exception.InvalidRulesFile, service.load_rules,
                          self.context, 'mysql', '5.7', self.path)
        self.assertRaises(exception.InvalidRulesFile, service.load_rules,
                          self.context, 'mysql', '5.7', self.path + '.none')
        self.assertRaises(exception.DatastoreNoVersion, service.load_rules,
                          self.context, 'mysql', '9.9', self.path)
        self.assertEqual(before, service.list_for_version(
            self.context, self.version['id']))

    def test_mgmt_values_accept_both_spellings(self) -> None:
        self.assertEqual(
            {'name': 'x', 'restart_required': True, 'data_type': 'integer',
             'min_size': '1', 'max_size': '9'},
            service.mgmt_values({'name': 'x', 'restart_required': 1,
                                 'data_type': 'integer', 'min': 1,
                                 'max_size': 9}))
