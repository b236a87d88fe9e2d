"""Configuration groups on real engines from real guest images: a dynamic
value is live at once, a restart-required one after a restart, both
survive it, and once detached the template's values come back."""
import os
import stat

import redis

from trove_clone.common import exception
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.postgresql import overrides as \
    postgresql_overrides
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.tests.functional.guestagent import test_lifecycle

# test_lifecycle deletes the name of its base class (so that the loader
# does not collect it); its subclasses still carry it.
_LifecycleTest = test_lifecycle.RedisLifecycleTest.__bases__[0]

ADDRESS = '127.77.253.%d'
#: Names no engine may see in a statement or a configuration line.
BAD_NAMES = ('max_connections = 1; DROP TABLE t', 'a b', "x'", '',
             'name\n[client]', '*', '1abc')


class _OverridesTest(_LifecycleTest):
    """The scenario every engine goes through; subclasses name the
    parameters and the manager."""

    manager = ''
    #: A dynamic parameter: (name, value given, value the engine shows).
    dynamic: tuple = ()
    #: A restart-required parameter: (name, value given, value shown).
    static: tuple = ()
    #: A value the engine refuses for the dynamic parameter.
    refused = 'not-a-value'

    def setUp(self) -> None:
        super().setUp()
        self.engine.prepare()

    def overrides(self, engine: lifecycle_base.Lifecycle):
        return loader.capability('overrides', self.manager, engine)

    def restart(self) -> lifecycle_base.Lifecycle:
        """Stop the engine and start it again, as a new agent does."""
        self.engine.stop()
        self.engine = self.make()
        self.addCleanup(self.engine.stop)
        self.engine.start()
        return self.engine

    def live(self) -> dict:
        return self.overrides(self.engine).current(
            [self.dynamic[0], self.static[0]])

    def test_attach_restart_detach(self) -> None:
        dynamic, static = self.dynamic[0], self.static[0]
        overrides = self.overrides(self.engine)
        template = self.live()
        self.assertNotEqual(self.dynamic[2], template[dynamic])
        self.assertNotEqual(self.static[2], template[static])

        # Attach: every value in the file, the dynamic ones applied live.
        overrides.write({dynamic: self.dynamic[1], static: self.static[1]})
        mode = stat.S_IMODE(os.stat(overrides.path).st_mode)
        self.assertEqual(0o600, mode)
        overrides.apply({dynamic: self.dynamic[1]})
        self.assertEqual({dynamic: self.dynamic[2],
                          static: template[static]}, self.live())
        self.restart()
        self.assertEqual({dynamic: self.dynamic[2],
                          static: self.static[2]}, self.live())

        # Detach: the file emptied, the template's dynamic values applied
        # live; the restart-required one comes back with a restart.
        overrides = self.overrides(self.engine)
        defaults = overrides.defaults()
        overrides.write({})
        overrides.apply({dynamic: defaults[dynamic]})
        self.assertEqual(template[dynamic], self.live()[dynamic])
        self.restart()
        self.assertEqual(template, self.live())

    def test_bad_names_and_values(self) -> None:
        overrides = self.overrides(self.engine)
        for name in BAD_NAMES:
            self.assertRaises(exception.BadRequest, overrides.write,
                              {name: 1})
            self.assertRaises(exception.BadRequest, overrides.apply,
                              {name: 1})
            self.assertRaises(exception.BadRequest, overrides.current,
                              [name])
        for value in (None, [1], {'a': 1}, float('nan'), 'two\nlines'):
            self.assertRaises(exception.BadRequest, overrides.write,
                              {self.dynamic[0]: value})
        before = self.live()
        self.assertRaises(exception.BadRequest, overrides.apply,
                          {self.dynamic[0]: self.refused})
        self.assertEqual(before, self.live())
        # Nothing reached the engine's files: it starts as before.
        self.restart()
        self.assertEqual(before, self.live())


class MariadbOverridesTest(_OverridesTest):

    datastore = 'mariadb'
    version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 1
    manager = 'mysql'
    dynamic = ('max_connections', 151, '151')
    # 8M for the 512 MB flavor.
    static = ('innodb_log_buffer_size', 32 * 1024 * 1024, str(32 << 20))

    def test_defaults_and_value_types(self) -> None:
        overrides = self.overrides(self.engine)
        defaults = overrides.defaults()
        self.assertEqual('256M', defaults['innodb_buffer_pool_size'])
        self.assertEqual('100', defaults['max_connections'])
        self.assertEqual('ON', defaults['skip_name_resolve'])
        self.assertNotIn('!include', str(defaults))
        # A string with a comment sign and quotes, a boolean, a float.
        overrides.write({'init_connect': 'SET @a = "#1"',
                         'local_infile': False,
                         'long_query_time': 2.5,
                         'ft-min-word-len': 3})
        overrides.apply({'local_infile': False, 'long_query_time': 2.5,
                         'init_connect': 'SET @a = "#1"'})
        live = {'init_connect': 'SET @a = "#1"', 'local_infile': 'OFF',
                'long_query_time': '2.500000'}
        self.assertEqual(live, overrides.current(list(live)))
        self.restart()
        self.assertEqual(dict(live, ft_min_word_len='3'),
                         self.overrides(self.engine).current(
                             list(live) + ['ft_min_word_len']))
        # The template's sizes, applied back as the caller does.
        self.overrides(self.engine).apply(
            {'max_heap_table_size': defaults['max_heap_table_size']})
        self.assertEqual({'max_heap_table_size': str(16 << 20)},
                         self.overrides(self.engine).current(
                             ['max_heap_table_size']))


class _PostgresqlOverridesTest(_OverridesTest):

    datastore = 'postgresql'
    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle
    manager = 'postgresql'
    dynamic = ('work_mem', '8MB', '8MB')
    static = ('max_connections', 120, '120')

    def test_defaults_and_value_types(self) -> None:
        overrides = self.overrides(self.engine)
        defaults = overrides.defaults()
        self.assertEqual('128MB', defaults['shared_buffers'])
        self.assertEqual(self.address, defaults['listen_addresses'])
        self.assertNotIn('include_if_exists', defaults)
        values = {'application_name': "it's a \\ test # here",
                  'statement_timeout': 5000,
                  'log_connections': True,
                  'random_page_cost': 1.5}
        overrides.write(values)
        overrides.apply(values)
        live = {'application_name': "it's a \\ test # here",
                'statement_timeout': '5s', 'log_connections': 'on',
                'random_page_cost': '1.5'}
        self.assertEqual(live, overrides.current(list(live)))
        # Applied without write: kept in the overrides file.
        overrides.apply({'work_mem': 6144})
        self.assertEqual({'work_mem': '6MB'}, overrides.current(['work_mem']))
        self.restart()
        self.assertEqual(dict(live, work_mem='6MB'),
                         self.overrides(self.engine).current(
                             list(live) + ['work_mem']))

    def test_detach_restores_the_builtin_default(self) -> None:
        overrides = self.overrides(self.engine)
        original = overrides.current(['statement_timeout'])
        self.assertEqual({'statement_timeout': '0'}, original)
        overrides.write({'statement_timeout': 5000})
        overrides.apply({'statement_timeout': 5000})
        self.assertEqual({'statement_timeout': '5s'},
                         overrides.current(['statement_timeout']))
        # Detached, the value read before is applied back (as a number,
        # as the agent's manager does): the file stays empty.
        overrides.write({})
        overrides.apply({'statement_timeout': 0})
        self.assertEqual(original, overrides.current(['statement_timeout']))
        with open(overrides.path) as written:
            self.assertEqual({}, postgresql_overrides.parse_settings(
                written.read()))


class Postgresql16OverridesTest(_PostgresqlOverridesTest):
    version = '16'
    address = ADDRESS % 2


class RedisOverridesTest(_OverridesTest):

    datastore = 'redis'
    version = '7.0'
    lifecycle_class = redis_lifecycle.RedisLifecycle
    address = ADDRESS % 3
    manager = 'redis'
    dynamic = ('maxmemory-policy', 'allkeys-lru', 'allkeys-lru')
    static = ('databases', 32, '32')

    def client(self) -> redis.Redis:
        client = self.engine.client(timeout=5, decode_responses=True)
        self.addCleanup(client.close)
        return client

    def test_defaults_and_value_types(self) -> None:
        overrides = self.overrides(self.engine)
        defaults = overrides.defaults()
        self.assertEqual(str(384 << 20), defaults['maxmemory'])
        self.assertEqual('noeviction', defaults['maxmemory-policy'])
        values = {'save': '3600 1 300 100', 'lazyfree-lazy-eviction': True,
                  'hz': 20}
        overrides.write(values)
        overrides.apply(values)
        live = {'save': '3600 1 300 100', 'lazyfree-lazy-eviction': 'yes',
                'hz': '20'}
        self.assertEqual(live, overrides.current(list(live)))
        # CONFIG REWRITE writes its own lines into redis.conf: the group
        # still wins after a restart.
        overrides.write(dict(values, hz=30))
        self.client().config_rewrite()
        self.restart()
        self.assertEqual(dict(live, hz='30'),
                         self.overrides(self.engine).current(list(live)))


del _LifecycleTest, _OverridesTest, _PostgresqlOverridesTest
