"""The engine configuration templates: sized by the flavor, every variable
given by the lifecycle that renders it, written whole."""
import os
import stat
import tempfile

import fixtures
import jinja2.meta
import testtools

from trove_clone.guestagent.datastores.mariadb import lifecycle as mariadb
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql
from trove_clone.guestagent.datastores.redis import lifecycle as redis
from trove_clone.guestagent.datastores import templating

LIFECYCLES = {
    'mysql': mariadb.MariadbLifecycle,
    'mariadb': mariadb.MariadbLifecycle,
    'postgresql': postgresql.PostgresqlLifecycle,
    'redis': redis.RedisLifecycle,
}


def lifecycle(manager: str, ram_mb: int):
    """A lifecycle of ``manager`` that is never started."""
    return LIFECYCLES[manager]('/nonexistent/root', '192.0.2.7',
                               '/nonexistent/volume/data', {}, ram_mb)


def settings(text: str, separator: str | None) -> dict:
    """The ``key<separator>value`` lines of a configuration file (comments,
    blank lines and section headers left out; a bare key maps to '')."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(('#', '[')):
            continue
        key, _, value = line.partition(separator or ' ')
        found[key.strip()] = value.strip()
    return found


def rendered(manager: str, ram_mb: int, vcpus: int = 1) -> dict:
    engine = lifecycle(manager, ram_mb)
    context = dict(engine._context(),
                   flavor=templating.flavor(ram_mb, vcpus))
    return settings(templating.render(manager, context),
                    None if manager == 'redis' else '=')


class TemplateFilesTest(testtools.TestCase):

    def test_every_manager_has_a_template(self) -> None:
        for manager in LIFECYCLES:
            path = os.path.join(templating.TEMPLATES_DIR,
                                templating.template_name(manager))
            self.assertTrue(os.path.isfile(path), path)

    def test_mysql_uses_the_mariadb_template(self) -> None:
        self.assertEqual(templating.template_name('mariadb'),
                         templating.template_name('mysql'))
        self.assertEqual(rendered('mariadb', 1024), rendered('mysql', 1024))

    def test_no_undefined_variable(self) -> None:
        environment = templating._environment()
        for manager in LIFECYCLES:
            name = templating.template_name(manager)
            source = environment.loader.get_source(environment, name)[0]
            wanted = jinja2.meta.find_undeclared_variables(
                environment.parse(source))
            given = set(lifecycle(manager, 512)._context())
            self.assertEqual(set(), wanted - given, manager)
            for key in ('ram', 'vcpus'):
                self.assertIn(key, lifecycle(manager, 512)._context()[
                    'flavor'])

    def test_missing_variable_is_an_error(self) -> None:
        context = lifecycle('redis', 512)._context()
        del context['acl_file']
        error = self.assertRaises(templating.TemplateError,
                                  templating.render, 'redis', context)
        self.assertIn('acl_file', error.message)
        context = lifecycle('redis', 512)._context()
        context['flavor'] = {'ram': 512}
        self.assertRaises(templating.TemplateError, templating.render,
                          'redis', context)

    def test_unknown_manager(self) -> None:
        error = self.assertRaises(templating.TemplateError,
                                  templating.render, 'cassandra', {})
        self.assertIn('cassandra', error.message)

    def test_flavor(self) -> None:
        self.assertEqual({'ram': 2048, 'vcpus': 4},
                         templating.flavor(2048, 4))
        self.assertEqual(1, templating.flavor(512)['vcpus'])


class MariadbTemplateTest(testtools.TestCase):

    def test_small_flavor(self) -> None:
        conf = rendered('mariadb', 512)
        self.assertEqual('256M', conf['innodb_buffer_pool_size'])
        self.assertEqual('100', conf['max_connections'])
        self.assertEqual('64M', conf['innodb_log_file_size'])
        self.assertEqual('16M', conf['tmp_table_size'])

    def test_large_flavor(self) -> None:
        conf = rendered('mariadb', 4096, vcpus=4)
        self.assertEqual('2048M', conf['innodb_buffer_pool_size'])
        self.assertEqual('800', conf['max_connections'])
        self.assertEqual('512M', conf['innodb_log_file_size'])
        self.assertEqual('128M', conf['max_heap_table_size'])
        self.assertEqual('80', conf['thread_cache_size'])

    def test_tiny_flavor_keeps_the_minimums(self) -> None:
        conf = rendered('mariadb', 16)
        self.assertEqual('16M', conf['innodb_buffer_pool_size'])
        self.assertEqual('100', conf['max_connections'])
        self.assertEqual('16M', conf['innodb_log_file_size'])

    def test_server_settings(self) -> None:
        engine = lifecycle('mariadb', 512)
        conf = rendered('mariadb', 512)
        self.assertEqual(engine.datadir, conf['datadir'])
        self.assertEqual(engine.socket_path, conf['socket'])
        self.assertEqual('192.0.2.7', conf['bind-address'])
        self.assertEqual('3306', conf['port'])
        for bare in ('skip-name-resolve', 'log-slave-updates'):
            self.assertEqual('', conf[bare])
        self.assertEqual('mysql-bin', conf['log-bin'])
        self.assertEqual('1', conf['gtid-strict-mode'])
        self.assertEqual('1', conf['server-id'])

    def test_server_reads_the_rendered_file(self) -> None:
        engine = lifecycle('mariadb', 512)
        # --defaults-file is only honoured as the first option.
        self.assertEqual('--defaults-file=/nonexistent/volume/data/my.cnf',
                         engine._arguments()[0])


class PostgresqlTemplateTest(testtools.TestCase):

    def test_small_flavor(self) -> None:
        conf = rendered('postgresql', 512)
        self.assertEqual('128MB', conf['shared_buffers'])
        self.assertEqual('384MB', conf['effective_cache_size'])
        self.assertEqual('32MB', conf['maintenance_work_mem'])
        self.assertEqual('4MB', conf['work_mem'])

    def test_large_flavor(self) -> None:
        conf = rendered('postgresql', 4096, vcpus=4)
        self.assertEqual('1024MB', conf['shared_buffers'])
        self.assertEqual('3072MB', conf['effective_cache_size'])
        self.assertEqual('256MB', conf['maintenance_work_mem'])
        self.assertEqual('32MB', conf['work_mem'])
        self.assertEqual('4', conf['max_parallel_workers'])
        self.assertEqual('2', conf['max_parallel_workers_per_gather'])

    def test_server_settings(self) -> None:
        conf = rendered('postgresql', 512)
        self.assertEqual("'192.0.2.7'", conf['listen_addresses'])
        self.assertEqual('5432', conf['port'])
        self.assertEqual("'/nonexistent/volume/data/run'",
                         conf['unix_socket_directories'])
        self.assertEqual('replica', conf['wal_level'])
        self.assertEqual('off', conf['logging_collector'])


class RedisTemplateTest(testtools.TestCase):

    def test_maxmemory_is_three_quarters_of_the_ram(self) -> None:
        self.assertEqual(str(384 * 1024 * 1024),
                         rendered('redis', 512)['maxmemory'])
        self.assertEqual(str(3072 * 1024 * 1024),
                         rendered('redis', 4096)['maxmemory'])

    def test_server_settings(self) -> None:
        conf = rendered('redis', 512)
        self.assertEqual({
            'bind': '192.0.2.7', 'port': '6379',
            'dir': '/nonexistent/volume/data', 'daemonize': 'no',
            'protected-mode': 'yes', 'appendonly': 'yes',
            'appendfsync': 'everysec', 'maxmemory': str(402653184),
            'maxmemory-policy': 'noeviction',
            'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '0',
            'repl-ping-replica-period': '1',
            'pidfile': '/nonexistent/volume/data/redis.pid',
            'aclfile': '/nonexistent/volume/data/users.acl',
        }, conf)


class WriteTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.directory = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.directory, 'trove.conf')

    def test_write_replaces_the_file(self) -> None:
        with open(self.path, 'w') as old:
            old.write('maxmemory 1\n')
        context = lifecycle('redis', 1024)._context()
        text = templating.write('redis', context, self.path)
        with open(self.path) as written:
            self.assertEqual(text, written.read())
        self.assertIn('maxmemory %d\n' % (768 * 1024 * 1024), text)
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.path).st_mode))
        self.assertEqual(['trove.conf'], os.listdir(self.directory))

    def test_failed_render_leaves_the_file(self) -> None:
        with open(self.path, 'w') as old:
            old.write('maxmemory 1\n')
        self.assertRaises(templating.TemplateError, templating.write,
                          'redis', {}, self.path)
        with open(self.path) as kept:
            self.assertEqual('maxmemory 1\n', kept.read())
        self.assertEqual(['trove.conf'], os.listdir(self.directory))

    def test_template_syntax_error(self) -> None:
        broken = self.useFixture(fixtures.TempDir()).path
        os.mkdir(os.path.join(broken, 'redis'))
        with open(os.path.join(broken, 'redis', 'config.template'),
                  'w') as template:
            template.write('port {{ port \n')
        self.useFixture(fixtures.MockPatchObject(
            templating, 'TEMPLATES_DIR', broken))
        templating._environment.cache_clear()
        self.addCleanup(templating._environment.cache_clear)
        error = self.assertRaises(templating.TemplateError,
                                  templating.render, 'redis', {'port': 1})
        self.assertIn('does not render', error.message)


class PostgresqlSocketTest(testtools.TestCase):

    def test_long_data_paths_get_a_short_socket_directory(self) -> None:
        short = postgresql.PostgresqlLifecycle('/r', '127.0.0.1', '/v/data',
                                               {}, 512)
        self.assertEqual('/v/data/run', short.run_dir)
        deep = '/var/lib/' + 'x' * 120 + '/data'
        long = postgresql.PostgresqlLifecycle('/r', '127.0.0.1', deep, {},
                                              512)
        self.assertTrue(long.run_dir.startswith(tempfile.gettempdir()))
        self.assertLess(len(long.run_dir) + 15,
                        postgresql.SOCKET_PATH_MAX)
