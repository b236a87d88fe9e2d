"""Upgrades of PostgreSQL: a new major version (15 → 16) with pg_upgrade,
a new minor version (16.4 → 16.15) by starting the new binaries.

pg_upgrade needs the OLD binaries, and they may be gone after the
rebuild: the system's PostgreSQL (absolute paths in the manifest) stays,
but one from a wheel lives in the image root. So when the major version
changes, pre_upgrade copies the old installation's ``bin``, ``lib`` and
``share`` to ``<volume>/upgrade/old-engine`` when they are inside the
image root, and records the old bindir in upgrade_info (with the old
cluster's locale, which the new cluster must share).

pg_upgrade runs in copy mode (no ``--link``): it leaves the old cluster
untouched, so the old ``pgdata`` IS the backup and no other copy of the
data is made (the volume holds the old and the new cluster at once: that
is what pre_upgrade checks space for). post_upgrade:

1. initdb a new cluster in ``<volume>/upgrade/pgdata.new`` with the
   lifecycle's options and the old locale;
2. pg_upgrade (as the engine's OS user, which pg_ident.conf lets log in
   as ``postgres`` by peer, in a private working directory, its servers
   on the lifecycle's private socket directory only);
3. carries pg_hba.conf, pg_ident.conf, postgresql.auto.conf (ALTER
   SYSTEM) and overrides.conf (the configuration group) over;
4. moves the old cluster to ``<volume>/upgrade/pgdata.old`` and the new
   one into its place;
5. runs the lifecycle's prepare, which renders trove.conf, includes it
   from postgresql.conf, adds the TCP rule to pg_hba.conf if missing and
   starts the engine.

pre_upgrade refuses a major upgrade when the user's columns carry options
stock PostgreSQL does not know (a patched build's, such as the
``pg_attver`` this machine's Debian 15 stamps on every column): pg_upgrade
would replay them and fail. On failure the old cluster goes back in
place. The planner statistics are
not carried over by pg_upgrade: ANALYZE (or autovacuum) rebuilds them.
"""
import os
import re
import subprocess

import psycopg

from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import upgrade

#: Where the old binaries are copied, in the upgrade directory.
OLD_ENGINE = 'old-engine'
#: The parts of an installation the old server needs.
ENGINE_PARTS = ('bin', 'lib', 'share')
#: The new cluster, then the old one once swapped, in the upgrade dir.
NEW_PGDATA = 'pgdata.new'
OLD_PGDATA = 'pgdata.old'
#: pg_upgrade's working directory (it writes its scripts there).
WORK_DIR = 'work'
#: The cluster's own files carried over to the new cluster.
CARRIED_FILES = ('pg_hba.conf', 'pg_ident.conf', 'postgresql.auto.conf',
                 'overrides.conf')
#: How long pg_upgrade may take.
PG_UPGRADE_TIMEOUT = 3600
#: The column options (ALTER TABLE ... ALTER COLUMN ... SET) of stock
#: PostgreSQL; pg_upgrade replays the others, which a stock new version
#: rejects after most of the work is done.
STANDARD_COLUMN_OPTIONS = frozenset({'n_distinct', 'n_distinct_inherited'})
#: The column options of the user's tables in one database.
COLUMN_OPTIONS_QUERY = (
    "SELECT DISTINCT split_part(option, '=', 1) "
    'FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid '
    'JOIN pg_namespace n ON n.oid = c.relnamespace, '
    'unnest(a.attoptions) AS option '
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%'")


def log_tail(output: str, size: int = 600) -> str:
    """The end of the log pg_upgrade's ``output`` points to (it is in
    the new cluster, removed by the rollback), or ''."""
    match = re.search(r'"([^"]+\.log)"', output)
    if not match:
        return ''
    try:
        with open(match.group(1), 'rb') as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(log.tell() - size, 0))
            tail = log.read().decode('utf-8', 'replace').strip()
    except OSError:
        return ''
    return '\n%s: %s' % (os.path.basename(match.group(1)), tail)


class PostgresqlUpgrade(upgrade.Upgrade):
    """Upgrades of a :class:`postgresql.PostgresqlLifecycle`."""

    datastore = 'postgresql'
    major_width = 1
    # pg_upgrade's copy mode keeps the old cluster: it is the backup.
    backup_data = False

    def major(self, version: str) -> tuple[int, ...]:
        """Before 10 the major version had two numbers (9.6)."""
        numbers = upgrade.parse_version(version)
        return upgrade.leading(numbers, 2 if numbers[0] < 10 else 1)

    # --- pre_upgrade -----------------------------------------------------

    def check(self, current: str, target: str) -> None:
        """Also refuse a major upgrade when the user's columns carry
        options stock PostgreSQL does not know (a patched build's):
        pg_upgrade would fail restoring the schema."""
        super().check(current, target)
        if self.major(current) == self.major(target) or \
                not self.engine.is_running():
            return
        unknown = sorted(self.column_options() - STANDARD_COLUMN_OPTIONS)
        if unknown:
            raise self.refused(
                current, target, 'the columns of its tables carry options '
                'stock PostgreSQL does not know (%s), which pg_upgrade '
                'cannot carry over to the new version' % ', '.join(unknown))

    def column_options(self) -> set[str]:
        """The names of the column options in every database."""
        names = set()
        try:
            with self.engine.connect() as connection:
                databases = [row[0] for row in connection.execute(
                    'SELECT datname FROM pg_database WHERE datallowconn')]
            for database in databases:
                with self.engine.connect(database) as connection:
                    names.update(row[0] for row in connection.execute(
                        COLUMN_OPTIONS_QUERY))
        except psycopg.Error as error:
            raise base.EngineError('PostgreSQL failed: %s' % error) \
                from error
        return names

    def old_installation(self) -> str | None:
        """The installation prefix of this engine when it lives inside
        the image root (it will be gone after the rebuild), else None."""
        bindir = os.path.dirname(self.engine.programs['postgres'])
        if upgrade.is_inside(bindir, self.engine.root):
            return os.path.dirname(bindir)
        return None

    def space_needed(self, info: dict) -> int:
        if not self.major_changes(info):
            return 0
        needed = upgrade.tree_size(self.engine.pgdata)
        prefix = self.old_installation()
        if prefix:
            needed += sum(upgrade.tree_size(os.path.join(prefix, part))
                          for part in ENGINE_PARTS)
        return needed

    def before_stop(self, info: dict) -> None:
        try:
            with self.engine.connect() as connection:
                # A checkpoint now makes the shutdown quick.
                connection.execute('CHECKPOINT')
                collate, ctype = connection.execute(
                    'SELECT datcollate, datctype FROM pg_database '
                    "WHERE datname = 'template1'").fetchone()
        except psycopg.Error as error:
            raise base.EngineError('PostgreSQL failed: %s' % error) \
                from error
        info['lc_collate'], info['lc_ctype'] = collate, ctype

    def save(self, info: dict) -> None:
        if not self.major_changes(info):
            return
        bindir = os.path.dirname(self.engine.programs['postgres'])
        prefix = self.old_installation()
        if prefix is None:
            info['old_bindir'] = bindir
            return
        os.makedirs(self.path(OLD_ENGINE))
        for part in ENGINE_PARTS:
            if os.path.isdir(os.path.join(prefix, part)):
                upgrade.copy_tree(os.path.join(prefix, part),
                                  self.path(os.path.join(OLD_ENGINE, part)))
        info['old_bindir'] = os.path.join(
            OLD_ENGINE, os.path.relpath(bindir, prefix))

    # --- post_upgrade ----------------------------------------------------

    def check_saved(self, info: dict) -> None:
        if not self.major_changes(info):
            return
        old_postgres = os.path.join(self.path(info.get('old_bindir', '')),
                                    'postgres')
        if not info.get('old_bindir') or not os.path.exists(old_postgres):
            raise base.EngineError('the old PostgreSQL %s binaries are '
                                   'missing (%s)' % (info['from_version'],
                                                     old_postgres))
        if not os.path.exists(os.path.join(self.engine.pgdata,
                                           'PG_VERSION')):
            raise base.EngineError('there is no cluster in %s'
                                   % self.engine.pgdata)

    def _own_dir(self, path: str) -> None:
        """Create ``path`` for the engine's system user."""
        os.makedirs(path, exist_ok=True)
        user = self.engine._user()
        if user is not None:
            os.chown(path, *user)

    def _pg_upgrade(self, info: dict, new_pgdata: str) -> None:
        work = self.path(WORK_DIR)
        self._own_dir(work)
        self.engine.private_dir(self.engine.run_dir, shared_parent=not
                                base.is_inside_dir(self.engine.run_dir,
                                                   self.engine.data_dir))
        port = str(self.engine.port)
        argv = [self.engine.programs['pg_upgrade'],
                '--old-bindir', self.path(info['old_bindir']),
                '--new-bindir',
                os.path.dirname(self.engine.programs['postgres']),
                '--old-datadir', self.engine.pgdata,
                '--new-datadir', new_pgdata, '--username', 'postgres',
                # Its servers listen on the private socket directory only.
                '--socketdir', self.engine.run_dir,
                '--old-port', port, '--new-port', port]
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith('PG')}
        result = subprocess.run(
            argv, cwd=work, env=environment, capture_output=True, text=True,
            timeout=PG_UPGRADE_TIMEOUT, **self.engine._privileges())
        if result.returncode:
            output = (result.stdout + result.stderr).strip()
            raise base.EngineError('pg_upgrade failed: %s%s' % (
                output[-600:], log_tail(output)))

    def migrate(self, info: dict) -> None:
        if not self.major_changes(info):
            return
        self._own_dir(self.upgrade_dir)
        new_pgdata = self.path(NEW_PGDATA)
        upgrade.remove(new_pgdata)
        options = tuple('--%s=%s' % (name.replace('_', '-'), info[name])
                        for name in ('lc_collate', 'lc_ctype')
                        if info.get(name))
        self.engine.initdb(new_pgdata, options)
        self._pg_upgrade(info, new_pgdata)
        for name in CARRIED_FILES:
            old = os.path.join(self.engine.pgdata, name)
            if os.path.exists(old):
                upgrade.copy_tree(old, os.path.join(new_pgdata, name))
        os.rename(self.engine.pgdata, self.path(OLD_PGDATA))
        os.rename(new_pgdata, self.engine.pgdata)

    def start(self, info: dict) -> None:
        if self.major_changes(info):
            # prepare renders trove.conf and includes it in the new
            # cluster's postgresql.conf; initdb is skipped (a cluster is
            # there).
            self.engine.prepare()
        else:
            self.engine.start()

    def restore(self, info: dict) -> None:
        old = self.path(OLD_PGDATA)
        if os.path.isdir(old):
            upgrade.remove(self.engine.pgdata)
            os.rename(old, self.engine.pgdata)
        # Otherwise the failure came before the swap: pg_upgrade's copy
        # mode left the old cluster untouched in place.
