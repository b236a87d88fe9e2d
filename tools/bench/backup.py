#!/usr/bin/env python3
"""Backup and restore throughput of the guest's backup capability against
the engine's raw tool.

For each datastore it builds the guest image (tools/build-guest-image),
prepares the engine on a temporary volume at a loopback address, fills a
table with ``--mb`` megabytes of generated rows (hex strings: about 2:1
for zstd, like real text), then measures:

* raw: the engine's backup tool writing its stream to /dev/null
  (``mariadb-backup --backup --stream=xbstream``, ``pg_basebackup -Ft -D -
  -X fetch``);
* backup: the capability's create (tool → zstd → AES-GCM → the local
  storage driver, fsynced);
* restore: the capability's restore onto a new volume (verify, extract,
  prepare/move) and the engine's first start.

MB/s are of the raw tool's stream (what the engine's tool writes, the
data a backup carries). It prints and asserts nothing.
Run as root:

    tools/bench/backup.py [--mb 1024] [--datastores mariadb,postgresql]
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), os.pardir, os.pardir))
sys.path.insert(0, ROOT)

from trove_clone.drivers import backup_storage  # noqa: E402
from trove_clone.guestagent.capabilities import upgrade  # noqa: E402
from trove_clone.guestagent.datastores.mariadb import backup as \
    mariadb_backup  # noqa: E402
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle  # noqa: E402
from trove_clone.guestagent.datastores.postgresql import backup as \
    postgresql_backup  # noqa: E402
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle  # noqa: E402

BUILDER = os.path.join(ROOT, 'tools', 'build-guest-image')
ROW_BYTES = 960

CASES = {
    'mariadb': ('10.11', '127.77.153.10', mariadb_lifecycle.MariadbLifecycle,
                mariadb_backup.MariadbBackup),
    'postgresql': ('15', '127.77.153.11',
                   postgresql_lifecycle.PostgresqlLifecycle,
                   postgresql_backup.PostgresqlBackup),
}


def image(datastore: str, version: str, work: str) -> tuple[str, dict]:
    result = subprocess.run([sys.executable, BUILDER, datastore, version,
                             '--output', work], capture_output=True,
                            text=True, check=True, timeout=900)
    root = os.path.join(work, 'root')
    with tarfile.open(result.stdout.split(':')[0]) as archive:
        archive.extractall(root, filter='tar')
    with open(os.path.join(root, 'manifest.json')) as manifest:
        return root, json.load(manifest)


def fill_mariadb(engine, megabytes: int) -> None:
    rows = megabytes * 1024 * 1024 // ROW_BYTES
    with engine.cursor() as cursor:
        cursor.execute('CREATE DATABASE bench')
        cursor.execute('CREATE TABLE bench.t (id BIGINT AUTO_INCREMENT '
                       'PRIMARY KEY, v VARCHAR(1000)) ENGINE=InnoDB')
        cursor.execute('INSERT INTO bench.t (v) VALUES '
                       '(HEX(RANDOM_BYTES(480)))')
        count = 1
        while count < rows:
            cursor.execute('INSERT INTO bench.t (v) SELECT HEX(RANDOM_BYTES('
                           '480)) FROM bench.t LIMIT %d'
                           % min(count, rows - count))
            count += min(count, rows - count)


def fill_postgresql(engine, megabytes: int) -> None:
    rows = megabytes * 1024 * 1024 // ROW_BYTES
    with engine.connect() as connection:
        connection.execute(
            "CREATE TABLE t AS SELECT g AS id, array_to_string(array("
            "SELECT md5(random()::text || g) FROM generate_series(1, 30)),"
            " '') AS v FROM generate_series(1, %d) AS g" % rows)
        connection.execute('CHECKPOINT')


def measure(datastore: str, megabytes: int) -> None:
    version, address, lifecycle_class, backup_class = CASES[datastore]
    work = tempfile.mkdtemp(prefix='bench-backup-')
    os.chmod(work, 0o755)
    engines = []
    try:
        root, manifest = image(datastore, version, work)

        def engine_on(volume: str):
            engine = lifecycle_class(root, address,
                                     os.path.join(work, volume, 'data'),
                                     manifest['programs'], 2048)
            engines.append(engine)
            return engine

        engine = engine_on('volume')
        engine.prepare()
        started = time.monotonic()
        (fill_mariadb if datastore == 'mariadb' else fill_postgresql)(
            engine, megabytes)
        filled = time.monotonic() - started
        size_mb = upgrade.tree_size(engine.data_dir) / 2 ** 20
        capability = backup_class(engine)

        os.makedirs(capability.work_dir, mode=0o700, exist_ok=True)
        started = time.monotonic()
        tool = subprocess.Popen(capability.backup_command({'id': 'raw'}),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL,
                                cwd=capability.work_dir)
        stream_mb = 0
        while True:
            chunk = tool.stdout.read(1 << 20)
            if not chunk:
                break
            stream_mb += len(chunk) / 2 ** 20
        if tool.wait():
            raise RuntimeError('the raw backup tool failed')
        raw = time.monotonic() - started
        shutil.rmtree(capability.work_dir)

        options = {'driver': 'local', 'root': os.path.join(work, 'store')}
        key = base64.b64encode(os.urandom(32)).decode()
        started = time.monotonic()
        result = capability.create({
            'id': 'bench', 'incremental': False, 'parent': None,
            'storage': options, 'container': 'bench',
            'encryption_key': key})
        backed_up = time.monotonic() - started
        stored_mb = result['size'] * 1024

        engine.stop()
        restored_engine = engine_on('volume2')
        started = time.monotonic()
        backup_class(restored_engine).restore({
            'id': 'bench', 'chain': [{
                'id': 'bench', 'location': result['location'],
                'checksum': result['checksum'],
                'metadata': result['metadata']}],
            'storage': options, 'encryption_key': key})
        restored_engine.prepare()
        restored = time.monotonic() - started
        backup_storage.load(options).delete(result['location'])

        print('%-10s data dir %.0f MB (filled in %.0f s), tool stream '
              '%.0f MB, stored %.0f MB' % (datastore, size_mb, filled,
                                           stream_mb, stored_mb))
        for label, seconds in (('raw tool', raw), ('backup', backed_up),
                               ('restore+start', restored)):
            print('    %-14s %6.2f s  %6.0f MB/s of the tool stream' % (
                label, seconds, stream_mb / seconds))
    finally:
        for engine in engines:
            engine.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mb', type=int, default=1024,
                        help='megabytes of rows to generate')
    parser.add_argument('--datastores', default='mariadb,postgresql')
    args = parser.parse_args()
    for datastore in args.datastores.split(','):
        measure(datastore, args.mb)


if __name__ == '__main__':
    main()
