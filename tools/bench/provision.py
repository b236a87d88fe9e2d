#!/usr/bin/env python3
"""Time instance provisioning, create to ACTIVE, against the engine's floor.

Starts a complete test deployment (Glance with real guest images,
trove-api, trove-taskmanager and trove-conductor on loopback, RabbitMQ at
127.0.0.1:5672) and, for each datastore, creates instances through the real
python-troveclient: ``--count`` of them one at a time, then ``--batches``
batches of ``--parallel`` at once. Each is timed from the create call
(POST) until ``instances.get`` (polled every 0.05 s) shows ACTIVE; each is
deleted afterwards and waited for until it is gone. A create that fails
(an HTTP error, ERROR, no ACTIVE within --timeout) is counted and its
reason printed, not timed.

Beside those figures it measures the floor: the same engine, from a guest
image built with tools/build-guest-image, initialised and started by hand
with no Trove at all, through the guest agent's own lifecycle class (same
data directory layout, same configuration, 512 MB like flavor 1):
``prepare()`` is timed (initialise the empty data directory, write the
configuration, start, wait until the engine answers a real query), then
the engine is stopped. The floor runs ``--count`` times; its median is
the figure.

The project's goal is create-to-ACTIVE within the floor plus 2 seconds,
one at a time; the last column says whether every one-at-a-time create
reached ACTIVE within it. Run it as root (MariaDB and PostgreSQL run as
their system users), on a quiet machine for figures worth comparing:

    tools/bench/provision.py [--count 3] [--parallel 4] [--batches 1]
                             [--datastores redis,postgresql,mysql]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

from troveclient import exceptions as trove_exc

from trove_clone.guestagent.datastores import loader
from trove_clone.tests.functional import instances

BUILDER = instances.BUILDER
#: The flavor the instances get, and its RAM (the floor's engine size).
FLAVOR = '1'
FLAVOR_RAM_MB = 512
POLL = 0.05
GOAL_MARGIN = 2.0


class BenchError(Exception):
    """An instance did not provision or go away; the message says why."""


# --- the floor: the engine by hand --------------------------------------

def build_image(datastore: str, work: str) -> tuple[str, dict]:
    """Build and unpack the guest image ``datastore`` is registered with;
    return the unpacked root and the manifest's programs."""
    engine, version, _manager = instances.VERSIONS[datastore]
    result = subprocess.run(
        [sys.executable, BUILDER, engine, version, '--output', work],
        capture_output=True, text=True, timeout=900)
    if result.returncode:
        raise BenchError('build-guest-image %s %s failed: %s'
                         % (engine, version, result.stderr.strip()))
    root = os.path.join(work, 'root')
    with tarfile.open(result.stdout.split(':')[0]) as archive:
        archive.extractall(root, filter='tar')
    with open(os.path.join(root, 'manifest.json')) as source:
        return root, json.load(source)['programs']


def measure_floor(datastore: str, address: str, runs: int) -> list[float]:
    """Seconds ``prepare()`` takes on an empty data directory, ``runs``
    times, each with a fresh volume."""
    manager = instances.VERSIONS[datastore][2]
    work = tempfile.mkdtemp(prefix='trove-bench-floor-')
    # The engines run as the mysql/postgres users and must reach the root.
    os.chmod(work, 0o755)
    timings = []
    try:
        root, programs = build_image(datastore, work)
        volume = os.path.join(work, 'volume')
        for _ in range(runs):
            engine = loader.capability_class(manager, 'lifecycle')(
                root, address, os.path.join(volume, 'data'), programs,
                FLAVOR_RAM_MB)
            try:
                start = time.perf_counter()
                engine.prepare()
                timings.append(time.perf_counter() - start)
            finally:
                engine.stop()
            shutil.rmtree(volume)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return timings


# --- Trove: create to ACTIVE --------------------------------------------

def wait_active(client, instance_id: str, timeout: float) -> None:
    """Return once the instance is ACTIVE; raise BenchError on ERROR or
    when ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        instance = client.instances.get(instance_id)
        if instance.status == 'ACTIVE':
            return
        if instance.status == 'ERROR':
            raise BenchError('Instance %s went to ERROR: %s' % (
                instance_id, getattr(instance, 'fault', None)))
        if time.monotonic() > deadline:
            raise BenchError('Instance %s is %s after %d s'
                             % (instance_id, instance.status, timeout))
        time.sleep(POLL)


def wait_gone(client, instance_id: str, timeout: float) -> None:
    """Return once ``instances.get`` answers 404 for the instance."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.instances.get(instance_id)
        except trove_exc.NotFound:
            return
        time.sleep(POLL)
    raise BenchError('Instance %s still exists after %d s'
                     % (instance_id, timeout))


class Provisioner:
    """Creates, times and deletes instances of one deployment, and keeps
    track of those not yet deleted so that nothing is left behind."""

    def __init__(self, deployment: instances.Deployment,
                 timeout: float) -> None:
        self.deployment = deployment
        self.timeout = timeout
        self.client = deployment.client()
        self.live: set[str] = set()
        self.lock = threading.Lock()
        self.serial = 0

    def _create_one(self, datastore: str, barrier: threading.Barrier,
                    timings: list, failures: list) -> None:
        with self.lock:
            self.serial += 1
            name = 'bench-%s-%d' % (datastore, self.serial)
        client = self.deployment.client()
        barrier.wait()
        start = time.perf_counter()
        try:
            instance = client.instances.create(
                name, FLAVOR, volume={'size': 1}, datastore=datastore)
        except trove_exc.ClientException as error:
            failures.append('create answered %s: %s' % (
                getattr(error, 'http_status', '?'), error))
            return
        with self.lock:
            self.live.add(instance.id)
        try:
            wait_active(client, instance.id, self.timeout)
        except BenchError as error:
            failures.append(str(error))
            return
        timings.append(time.perf_counter() - start)

    def batch(self, datastore: str, size: int) -> tuple[list, list, list]:
        """Create ``size`` instances at once, wait for all to be ACTIVE,
        delete them all and wait until they are gone; return the
        create-to-ACTIVE seconds, the delete-to-gone seconds and why the
        creates that did not reach ACTIVE failed."""
        timings: list[float] = []
        failures: list[str] = []
        barrier = threading.Barrier(size)
        threads = [threading.Thread(target=self._create_one,
                                    args=(datastore, barrier, timings,
                                          failures))
                   for _ in range(size)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return timings, self.delete_all(), failures

    def delete_all(self) -> list[float]:
        """Delete every instance still alive; seconds each took to go."""
        with self.lock:
            doomed = sorted(self.live)
        start = time.perf_counter()
        for instance_id in doomed:
            try:
                self.client.instances.delete(instance_id)
            except trove_exc.NotFound:
                pass
        gone = []
        for instance_id in doomed:
            wait_gone(self.client, instance_id, self.timeout)
            gone.append(time.perf_counter() - start)
            with self.lock:
                self.live.discard(instance_id)
        return gone


class Mode:
    """The figures of one way of creating: timings and failures."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.timings: list[float] = []
        self.gone: list[float] = []
        self.failures: list[str] = []
        self.attempts = 0

    def add(self, timings: list, gone: list, failures: list) -> None:
        self.timings += timings
        self.gone += gone
        self.failures += failures
        self.attempts += len(timings) + len(failures)

    def median(self) -> float | None:
        return statistics.median(self.timings) if self.timings else None

    def max(self) -> float | None:
        return max(self.timings) if self.timings else None

    def report(self) -> None:
        print(describe(self.label, self.timings))
        print(describe(self.label + ' delete', self.gone))
        if self.failures:
            print('  %s: %d of %d creates failed; first: %s' % (
                self.label, len(self.failures), self.attempts,
                self.failures[0][:300]))


# --- the report ---------------------------------------------------------

def describe(label: str, timings: list[float]) -> str:
    if not timings:
        return '  %-20s n=0' % label
    return '  %-20s n=%-2d median %6.2f s  max %6.2f s  min %6.2f s' % (
        label, len(timings), statistics.median(timings), max(timings),
        min(timings))


def seconds(value: float | None) -> str:
    return 'n/a' if value is None else '%.2f' % value


def table(rows: list[dict], parallel: int) -> None:
    header = ('datastore', 'floor s', 'serial median', 'serial max',
              'parallel(%d) median' % parallel, 'parallel max',
              'failed creates', 'goal (floor + %g s) met?' % GOAL_MARGIN)
    lines = [header]
    for row in rows:
        floor = statistics.median(row['floor'])
        serial, par = row['serial'], row['parallel']
        goal = floor + GOAL_MARGIN
        met = bool(serial.timings) and not serial.failures and \
            serial.max() <= goal
        lines.append((
            row['datastore'], '%.2f' % floor, seconds(serial.median()),
            seconds(serial.max()), seconds(par.median()),
            seconds(par.max()),
            'serial %d/%d, parallel %d/%d' % (
                len(serial.failures), serial.attempts,
                len(par.failures), par.attempts),
            '%s (%.2f s)' % ('yes' if met else 'no', goal)))
    widths = [max(len(line[i]) for line in lines)
              for i in range(len(header))]
    for number, line in enumerate(lines):
        print(' | '.join(cell.ljust(width)
                         for cell, width in zip(line, widths)).rstrip())
        if number == 0:
            print('-+-'.join('-' * width for width in widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=3,
                        help='instances created one at a time, and floor '
                             'runs, per datastore')
    parser.add_argument('--parallel', type=int, default=4,
                        help='instances created at once in a batch')
    parser.add_argument('--batches', type=int, default=1,
                        help='batches of --parallel instances per datastore')
    parser.add_argument('--datastores', default='redis,postgresql,mysql',
                        help='comma-separated, of %s'
                             % ','.join(sorted(instances.VERSIONS)))
    parser.add_argument('--address-pool', default='127.77.232.0/27')
    parser.add_argument('--floor-address', default='127.77.230.1')
    parser.add_argument('--timeout', type=float, default=300.0,
                        help='seconds to wait for ACTIVE or for deletion')
    args = parser.parse_args()
    datastores = tuple(name for name in args.datastores.split(',') if name)
    unknown = [name for name in datastores
               if name not in instances.VERSIONS]
    if unknown:
        parser.error('unknown datastores: %s' % ', '.join(unknown))
    if args.count < 1 or args.parallel < 1 or args.batches < 1:
        parser.error('--count, --parallel and --batches must be positive')

    start = time.perf_counter()
    deployment = instances.Deployment(args.address_pool,
                                      datastores=datastores)
    rows = []
    provisioner = None
    try:
        deployment.setUp()
        print('deployment up in %.1f s (images built and registered)'
              % (time.perf_counter() - start))
        provisioner = Provisioner(deployment, args.timeout)
        for datastore in datastores:
            engine, version, manager = instances.VERSIONS[datastore]
            print('%s (%s %s, manager %s):'
                  % (datastore, engine, version, manager))
            floor = measure_floor(datastore, args.floor_address, args.count)
            print(describe('floor', floor))
            serial = Mode('serial')
            for _ in range(args.count):
                serial.add(*provisioner.batch(datastore, 1))
            serial.report()
            parallel = Mode('parallel(%d)' % args.parallel)
            for _ in range(args.batches):
                parallel.add(*provisioner.batch(datastore, args.parallel))
            parallel.report()
            sys.stdout.flush()
            rows.append({'datastore': datastore, 'floor': floor,
                         'serial': serial, 'parallel': parallel})
    finally:
        try:
            if provisioner is not None:
                provisioner.delete_all()
        finally:
            deployment.cleanUp()
            if rows:
                print()
                table(rows, args.parallel)
    return 0


if __name__ == '__main__':
    sys.exit(main())
