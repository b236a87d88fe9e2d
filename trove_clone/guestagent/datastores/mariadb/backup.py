"""Backups of MariaDB (also the mysql manager) with mariadb-backup.

A full backup streams ``mariadb-backup --backup --stream=xbstream`` of
the running server (as the agent, over its socket as root); an
incremental one adds ``--incremental-lsn`` with the ``to_lsn`` its
parent recorded, so it carries only the InnoDB pages changed since.
``--extra-lsndir`` keeps a copy of ``xtrabackup_checkpoints`` (a few
lines) in ``<volume>/backup``: its ``backup_type``, ``from_lsn``,
``to_lsn`` and ``last_lsn`` are the backup's metadata, with ``gtid``:
the GTID position of the last transaction in the backup, which
``xtrabackup_info`` (also copied there) records as the binary log
position taken while commits were blocked; a replica seeded from the
backup starts replicating after it (guestagent replication).

A restore extracts each stream with ``mbstream -x`` (as the engine's
user) into ``<volume>/restore/<n>``, prepares the full backup, applies
each incremental with ``--prepare --incremental-dir``, moves the files
into the data directory (``--move-back``: renames, the scratch space is
on the same volume) and resets the agent's account: the restored
``mysql.global_priv`` is the old instance's, so ``root@localhost`` is
made again, authenticated by unix_socket only, in a ``--bootstrap`` run
of the server before its first start. The tenant's users, databases and
an enabled root (``root@'%'``) come back as they were.
"""
import configparser
import os
import re
import shutil
import subprocess

from trove_clone.guestagent import backup_stream
from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.capabilities import lifecycle as base

#: The checkpoints file mariadb-backup writes (and --extra-lsndir copies).
CHECKPOINTS = 'xtrabackup_checkpoints'
#: The backup's facts file (mariadb-backup copies it to --extra-lsndir).
INFO = 'xtrabackup_info'
_GTID = re.compile(r"GTID of the last change '([0-9,-]*)'")
_BINLOG = re.compile(r"filename '([^']+)', position '(\d+)'")
#: How long a prepare, a move-back or the bootstrap may take.
TOOL_TIMEOUT = 3600
#: The agent's account after a restore, as mariadb-install-db makes it:
#: every privilege, no password, the OS user root over the socket. A
#: ``--bootstrap`` run checks no privileges and loads no grant tables
#: (ALTER USER is refused there): the row is written as it is stored.
RESET_AGENT_ACCOUNT = """\
REPLACE INTO mysql.global_priv (Host, User, Priv) VALUES ('localhost',
 'root', '{"access":18446744073709551615,"plugin":"mysql_native_password",\
"authentication_string":"invalid","auth_or":[{},{"plugin":"unix_socket"}]}');
"""


def read_checkpoints(path: str) -> dict:
    """``xtrabackup_checkpoints`` as a dict (LSNs as ints)."""
    parser = configparser.ConfigParser()
    with open(path) as source:
        parser.read_string('[checkpoints]\n' + source.read())
    facts = dict(parser['checkpoints'])
    for name in ('from_lsn', 'to_lsn', 'last_lsn'):
        if name in facts:
            facts[name] = int(facts[name])
    return facts


def read_gtid(path: str) -> str | None:
    """The GTID position ``xtrabackup_info`` at ``path`` records (None
    when it records none: no binary log)."""
    try:
        with open(path) as source:
            match = _GTID.search(source.read())
    except FileNotFoundError:
        return None
    return match.group(1) if match else None


def read_binlog_position(path: str) -> dict:
    """``binlog_file`` and ``binlog_pos`` of the backup's end as
    ``xtrabackup_info`` at ``path`` records them (point-in-time recovery
    replays the binary log from there); {} when it records none."""
    try:
        with open(path) as source:
            match = _BINLOG.search(source.read())
    except FileNotFoundError:
        return {}
    if not match:
        return {}
    return {'binlog_file': match.group(1), 'binlog_pos': int(match.group(2))}


class MariadbBackup(backup.Backup):

    datastore = 'mariadb'
    stream_format = 'xbstream'
    incremental = True

    def program(self, name: str, fallback: str) -> str:
        return self.engine.programs.get(name) or shutil.which(fallback) \
            or '/usr/bin/%s' % fallback

    @property
    def lsn_dir(self) -> str:
        return os.path.join(self.work_dir, 'lsn')

    def backup_command(self, info: dict) -> list[str]:
        """The mariadb-backup command line of ``info``."""
        argv = [self.program('backup', 'mariadb-backup'),
                '--defaults-file=%s' % self.engine.conf_path,
                '--backup', '--stream=xbstream',
                '--user=root', '--socket=%s' % self.engine.socket_path,
                '--extra-lsndir=%s' % self.lsn_dir,
                '--target-dir=%s' % self.work_dir]
        if info.get('incremental'):
            parent = info.get('parent') or {}
            lsn = (parent.get('metadata') or {}).get('to_lsn')
            if not isinstance(lsn, int) and not str(lsn or '').isdigit():
                raise backup.BackupFailed(
                    reason='the parent backup %s has no recorded LSN '
                           '(to_lsn)' % parent.get('id'))
            argv.append('--incremental-lsn=%d' % int(lsn))
        return argv

    def producer(self, info: dict) -> backup_stream.Command:
        return backup_stream.Command(self.backup_command(info),
                                     'mariadb-backup', cwd=self.work_dir)

    def metadata(self, info: dict) -> dict:
        facts = read_checkpoints(os.path.join(self.lsn_dir, CHECKPOINTS))
        metadata = {name: facts[name] for name in (
            'backup_type', 'from_lsn', 'to_lsn', 'last_lsn') if name in facts}
        gtid = read_gtid(os.path.join(self.lsn_dir, INFO))
        if gtid is not None:
            metadata['gtid'] = gtid
        metadata.update(read_binlog_position(os.path.join(self.lsn_dir,
                                                          INFO)))
        return metadata

    # --- restore -----------------------------------------------------------

    def extractor(self, entry: dict,
                  directory: str) -> backup_stream.Command:
        return backup_stream.Command(
            [self.program('mbstream', 'mbstream'), '-x', '-C', directory],
            'mbstream', cwd=directory, **self.engine._privileges())

    def check_chain(self, chain: list[dict]) -> None:
        """Also: a full backup first, then incrementals each starting
        where the one before ended (when their metadata says)."""
        super().check_chain(chain)
        facts = [entry.get('metadata') or {} for entry in chain]
        if facts[0].get('backup_type', 'full-backuped') != 'full-backuped':
            raise backup.BackupFailed(reason='the chain does not start with '
                                             'a full backup')
        for before, entry, after in zip(facts, chain[1:], facts[1:]):
            if 'from_lsn' in after and 'to_lsn' in before and \
                    after['from_lsn'] != before['to_lsn']:
                raise backup.BackupFailed(
                    reason='incremental backup %s starts at LSN %s, its '
                           'parent ends at %s' % (entry.get('id'),
                                                  after['from_lsn'],
                                                  before['to_lsn']))

    def _tool(self, argv: list[str], what: str, **kwargs) -> None:
        result = subprocess.run(argv, capture_output=True, text=True,
                                timeout=TOOL_TIMEOUT,
                                **self.engine._privileges(), **kwargs)
        if result.returncode:
            raise backup.BackupFailed(reason='%s failed: %s' % (
                what, backup.one_line(
                    (result.stderr or result.stdout)[-600:])))

    def install(self, chain: list[dict], directories: list[str]) -> None:
        tool = self.program('backup', 'mariadb-backup')
        full = directories[0]
        self._tool([tool, '--prepare', '--target-dir=%s' % full],
                   'mariadb-backup --prepare')
        for directory in directories[1:]:
            self._tool([tool, '--prepare', '--target-dir=%s' % full,
                        '--incremental-dir=%s' % directory],
                       'mariadb-backup --prepare --incremental-dir')
        self._tool([tool, '--move-back', '--target-dir=%s' % full,
                    '--datadir=%s' % self.engine.datadir],
                   'mariadb-backup --move-back')
        self.reset_agent_account()

    def reset_agent_account(self) -> None:
        """Make the agent's socket account again in the restored data."""
        self.engine.private_dir(os.path.dirname(self.engine.socket_path))
        self.engine._write_conf()
        self.engine._own(self.engine.data_dir)
        try:
            self._tool([self.engine.programs['server'],
                        '--defaults-file=%s' % self.engine.conf_path,
                        '--bootstrap', '--skip-networking'],
                       'resetting the agent account (mariadbd --bootstrap)',
                       input=RESET_AGENT_ACCOUNT)
        except subprocess.TimeoutExpired as error:
            raise base.EngineError('mariadbd --bootstrap timed out: %s'
                                   % error)
