"""The engine-free parts of configuration groups: name checks, the values
each engine's files and statements get, the files written and read back,
where the engines include them, and which manager gets which class."""
import contextlib
import os
import stat

import fixtures
import testtools

from trove_clone.common import exception
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.datastores.mariadb import lifecycle as mariadb
from trove_clone.guestagent.datastores.mariadb import overrides as \
    mariadb_overrides
from trove_clone.guestagent.capabilities import overrides
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql
from trove_clone.guestagent.datastores.postgresql import overrides as \
    postgresql_overrides
from trove_clone.guestagent.datastores.redis import lifecycle as redis
from trove_clone.guestagent.datastores.redis import overrides as \
    redis_overrides
from trove_clone.guestagent.datastores import templating


class ChecksTest(testtools.TestCase):

    def test_plain_names_pass(self) -> None:
        for name in ('max_connections', 'maxmemory-policy', 'a.b', '_x',
                     'ft_min_word_len', 'Work_Mem2'):
            self.assertEqual(name, overrides.check_name(name))

    def test_other_names_are_refused(self) -> None:
        for name in ('', 'a b', "a'", 'a;b', 'a=b', '1abc', '*', 'a\nb',
                     '-a', '.a', 'a`', 'a"', 'x' * 200, None, 5, 'é'):
            self.assertRaises(exception.BadRequest, overrides.check_name,
                              name)

    def test_values(self) -> None:
        for value in (True, 0, -3, 2.5, '', 'text with spaces #'):
            overrides.check_value('p', value)
        for value in (None, [], {}, float('inf'), float('nan'), 'a\nb',
                      'a\tb', 'a\x00b'):
            self.assertRaises(exception.BadRequest, overrides.check_value,
                              'p', value)

    def test_checked(self) -> None:
        self.assertEqual({'a': 1}, overrides.checked({'a': 1}))
        self.assertRaises(exception.BadRequest, overrides.checked, [1])
        self.assertRaises(exception.BadRequest, overrides.checked,
                          {'a b': 1})

    def test_number_text(self) -> None:
        self.assertEqual('100', overrides.number_text(100))
        self.assertEqual('2', overrides.number_text(2.0))
        self.assertEqual('0.5', overrides.number_text(0.5))


class ReplaceFileTest(testtools.TestCase):

    def test_replace(self) -> None:
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'overrides.conf')
        with open(path, 'w') as old:
            old.write('old')
        os.chmod(path, 0o666)
        overrides.replace_file(path, 'new\n')
        with open(path) as new:
            self.assertEqual('new\n', new.read())
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        self.assertEqual(['overrides.conf'], os.listdir(directory))


class FakeCursor:
    """Records statements and their parameters."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def execute(self, statement: str, params=None) -> None:
        self.sent.append((statement, params))

    def fetchall(self) -> list:
        return [('MAX_CONNECTIONS', '151'), ('other', 'x')]


class MariadbTest(testtools.TestCase):

    def test_option_values(self) -> None:
        convert = mariadb_overrides.option_value
        self.assertEqual('ON', convert(True))
        self.assertEqual('OFF', convert(False))
        self.assertEqual('151', convert(151))
        self.assertEqual('2.5', convert(2.5))
        self.assertEqual('"a # b"', convert('a # b'))
        self.assertEqual('"say \\"hi\\" \\\\"', convert('say "hi" \\'))

    def test_sql_values(self) -> None:
        convert = mariadb_overrides.sql_value
        self.assertEqual('ON', convert(True))
        self.assertEqual(151, convert(151))
        self.assertEqual(151, convert('151'))
        self.assertEqual(256 * 1024 * 1024, convert('256M'))
        self.assertEqual(2 * 1024, convert('2k'))
        self.assertEqual(2.5, convert('2.5'))
        self.assertEqual('STRICT_ALL_TABLES', convert('STRICT_ALL_TABLES'))

    def test_variable_names(self) -> None:
        self.assertEqual('ft_min_word_len',
                         mariadb_overrides.variable_name('FT-min-word-len'))
        self.assertRaises(exception.BadRequest,
                          mariadb_overrides.variable_name, 'a = 1, b')

    def test_render_and_parse(self) -> None:
        text = mariadb_overrides.render({
            'max_connections': 151, 'local-infile': False,
            'init_connect': 'SET @a = "#1" \\'})
        self.assertIn('[mysqld]\n', text)
        self.assertIn('max_connections = 151\n', text)
        self.assertIn('local_infile = OFF\n', text)
        self.assertEqual(
            {'max_connections': '151', 'local_infile': 'OFF',
             'init_connect': 'SET @a = "#1" \\'},
            mariadb_overrides.parse_options(text))
        self.assertIn('[mysqld]\n', mariadb_overrides.render({}))
        self.assertRaises(exception.BadRequest, mariadb_overrides.render,
                          {'a\n[client]\nb': 1})

    def test_parse_the_template(self) -> None:
        engine = mariadb.MariadbLifecycle('/nonexistent/root', '192.0.2.7',
                                          '/nonexistent/data', {}, 512)
        text = templating.render('mariadb', engine._context())
        found = mariadb_overrides.parse_options(text)
        self.assertEqual('256M', found['innodb_buffer_pool_size'])
        self.assertEqual('192.0.2.7', found['bind_address'])
        self.assertEqual('ON', found['skip_name_resolve'])
        # The group's file is included last, so that it wins.
        self.assertEqual('!include /nonexistent/data/overrides.cnf',
                         text.strip().splitlines()[-1])
        self.assertEqual('/nonexistent/data/overrides.cnf',
                         engine.overrides_path)

    def test_statements(self) -> None:
        cursor = FakeCursor()
        engine_overrides = mariadb_overrides.MariadbOverrides(None)

        @contextlib.contextmanager
        def fake_cursor():
            yield cursor
        self.patch(engine_overrides, '_cursor', fake_cursor)
        engine_overrides.apply({'max-connections': 151,
                                'local_infile': True})
        self.assertEqual(
            [('SET GLOBAL max_connections = %s', (151,)),
             ('SET GLOBAL local_infile = %s', ('ON',))], cursor.sent)
        self.assertEqual({'MAX_CONNECTIONS': '151'},
                         engine_overrides.current(['MAX_CONNECTIONS']))
        self.assertEqual(
            ('SHOW GLOBAL VARIABLES WHERE Variable_name IN (%s)',
             ('max_connections',)), cursor.sent[-1])
        self.assertRaises(exception.BadRequest, engine_overrides.apply,
                          {'x = 1; DROP TABLE t; --': 1})
        self.assertEqual(3, len(cursor.sent))


class PostgresqlTest(testtools.TestCase):

    def test_setting_values(self) -> None:
        convert = postgresql_overrides.setting_value
        self.assertEqual('on', convert(True))
        self.assertEqual('off', convert(False))
        self.assertEqual('120', convert(120))
        self.assertEqual('1.5', convert(1.5))
        self.assertEqual("'8MB'", convert('8MB'))
        self.assertEqual("'it''s \\\\ # x'", convert("it's \\ # x"))

    def test_render_and_parse(self) -> None:
        values = {'work_mem': '8MB', 'Max_Connections': 120,
                  'application_name': "it's \\ # x", 'fsync': True}
        text = postgresql_overrides.render(values)
        self.assertIn('max_connections = 120\n', text)
        self.assertEqual(
            {'work_mem': '8MB', 'max_connections': '120',
             'application_name': "it's \\ # x", 'fsync': 'on'},
            postgresql_overrides.parse_settings(text))

    def test_parse_the_template(self) -> None:
        engine = postgresql.PostgresqlLifecycle(
            '/nonexistent/root', '192.0.2.7', '/nonexistent/data', {}, 512)
        text = templating.render('postgresql', engine._context())
        found = postgresql_overrides.parse_settings(text)
        self.assertEqual('192.0.2.7', found['listen_addresses'])
        self.assertEqual('4MB', found['work_mem'])
        self.assertEqual('100', found['max_connections'])
        self.assertNotIn('include_if_exists', found)
        # overrides.conf beside trove.conf, included last.
        self.assertEqual("include_if_exists = 'overrides.conf'",
                         text.strip().splitlines()[-1])
        self.assertEqual(os.path.dirname(engine.conf_path),
                         os.path.dirname(engine.overrides_path))

    def test_parse_comments_and_spaces(self) -> None:
        self.assertEqual(
            {'a': 'x # y', 'b': '2', 'c': 'on'},
            postgresql_overrides.parse_settings(
                "a = 'x # y'  # a comment\n# b = 1\nb=2\nc on\n"
                "include 'other.conf'\n"))


class RedisTest(testtools.TestCase):

    def test_values(self) -> None:
        self.assertEqual('yes', redis_overrides.config_value(True))
        self.assertEqual('no', redis_overrides.config_value(False))
        self.assertEqual('32', redis_overrides.config_value(32))
        self.assertEqual('allkeys-lru',
                         redis_overrides.line_value('allkeys-lru'))
        self.assertEqual('"3600 1 300 100"',
                         redis_overrides.line_value('3600 1 300 100'))
        self.assertEqual('"a\\"b\\\\"', redis_overrides.line_value('a"b\\'))
        self.assertEqual('""', redis_overrides.line_value(''))

    def test_render_and_parse(self) -> None:
        text = redis_overrides.render({'databases': 32,
                                       'maxmemory-policy': 'allkeys-lru',
                                       'appendonly': False})
        self.assertEqual({'databases': '32',
                          'maxmemory-policy': 'allkeys-lru',
                          'appendonly': 'no'},
                         redis_overrides.parse_directives(text))

    def test_parse_the_template(self) -> None:
        engine = redis.RedisLifecycle('/nonexistent/root', '192.0.2.7',
                                      '/nonexistent/data', {}, 512)
        found = redis_overrides.parse_directives(
            templating.render('redis', engine._context()))
        self.assertEqual('noeviction', found['maxmemory-policy'])
        self.assertEqual(str(384 << 20), found['maxmemory'])


class RedisIncludeTest(testtools.TestCase):
    """Where redis.conf includes the group's file."""

    def setUp(self) -> None:
        super().setUp()
        self.data_dir = self.useFixture(fixtures.TempDir()).path
        self.engine = redis.RedisLifecycle('/nonexistent/root', '192.0.2.7',
                                           self.data_dir, {}, 512)
        self.include = 'include %s' % self.engine.overrides_path

    def lines(self) -> list[str]:
        with open(self.engine.conf_path) as conf:
            return conf.read().splitlines()

    def test_included_last(self) -> None:
        self.engine._include_generated_conf()
        self.engine._include_overrides_conf()
        self.assertEqual(self.include, self.lines()[-1])
        self.assertTrue(os.path.exists(self.engine.overrides_path))
        # CONFIG REWRITE appends lines after it: it moves back to the end,
        # once.
        with open(self.engine.conf_path, 'a') as conf:
            conf.write('# Generated by CONFIG REWRITE\nhz 30\n')
        self.engine._include_overrides_conf()
        self.engine._include_overrides_conf()
        lines = self.lines()
        self.assertEqual(self.include, lines[-1])
        self.assertEqual(1, lines.count(self.include))
        self.assertIn('hz 30', lines)
        self.assertTrue(lines.index('include %s'
                                    % self.engine.generated_conf_path)
                        < lines.index('hz 30'))

    def test_no_redis_conf_no_include(self) -> None:
        self.engine._include_overrides_conf()
        self.assertEqual([], os.listdir(self.data_dir))


class LoaderTest(testtools.TestCase):

    def test_managers(self) -> None:
        for manager, cls in (
                ('mysql', mariadb_overrides.MariadbOverrides),
                ('mariadb', mariadb_overrides.MariadbOverrides),
                ('postgresql', postgresql_overrides.PostgresqlOverrides),
                ('redis', redis_overrides.RedisOverrides)):
            engine = object()
            found = loader.capability('overrides', manager, engine)
            self.assertIsInstance(found, cls)
            self.assertIs(engine, found.engine)
        self.assertRaises(exception.DatastoreOperationNotSupported,
                          loader.capability, 'overrides', 'cassandra', None)


class RecordingOverrides(overrides.Overrides):
    """Overrides of an engine whose live values are a dict."""

    def __init__(self, engine, live: dict) -> None:
        super().__init__(engine)
        self.live = live
        self.applied: list[dict] = []

    @staticmethod
    def render(values: dict) -> str:
        return '\n'.join('%s=%s' % item for item in sorted(values.items()))

    def apply(self, values: dict) -> None:
        self.applied.append(dict(values))
        self.live.update(values)

    def current(self, names: list[str]) -> dict:
        return {name: str(self.live[name]) for name in names
                if name in self.live}

    def defaults(self) -> dict:
        return {}


class UpdateTest(testtools.TestCase):
    """The group's state on the volume: what changed, what is applied
    live, and the engine's own values given back when a dynamic parameter
    leaves the group."""

    def setUp(self) -> None:
        super().setUp()
        volume = self.useFixture(fixtures.TempDir()).path
        engine = type('Engine', (), {
            'data_dir': os.path.join(volume, 'data'),
            'overrides_path': os.path.join(volume, 'overrides.conf'),
            '_user': lambda self: None})()
        self.state_path = os.path.join(volume, overrides.STATE_FILE)
        self.live = {'max_connections': 100, 'work_mem': '4MB'}
        self.handler = RecordingOverrides(engine, self.live)

    def test_attach_change_detach(self) -> None:
        self.assertEqual(['max_connections', 'shared_buffers'],
                         self.handler.update(
                             {'max_connections': 50, 'shared_buffers': 1},
                             ['max_connections']))
        # Only the dynamic one is applied; the static one waits.
        self.assertEqual([{'max_connections': 50}], self.handler.applied)
        with open(self.handler.path) as written:
            self.assertEqual('max_connections=50\nshared_buffers=1',
                             written.read())
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.state_path)
                                             .st_mode))
        # Unchanged values are neither reported nor applied again.
        self.assertEqual(['work_mem'], self.handler.update(
            {'max_connections': 50, 'shared_buffers': 1, 'work_mem': '8MB'},
            ['max_connections', 'work_mem']))
        self.assertEqual({'work_mem': '8MB'}, self.handler.applied[-1])
        # Detached: the engine's own values come back, typed.
        self.assertEqual(['max_connections', 'shared_buffers', 'work_mem'],
                         self.handler.update({}, ['max_connections',
                                                  'work_mem']))
        self.assertEqual({'max_connections': 100, 'work_mem': '4MB'},
                         self.handler.applied[-1])
        self.assertEqual('', open(self.handler.path).read())
        # A new handler (a restarted agent) reads the same state.
        again = RecordingOverrides(self.handler.engine, self.live)
        self.assertEqual([], again.update({}, []))

    def test_typed(self) -> None:
        self.assertEqual(5, overrides.typed('5'))
        self.assertEqual(0.5, overrides.typed('0.5'))
        self.assertEqual('on', overrides.typed('on'))
        self.assertIsNone(overrides.typed(None))
