"""Running the taskmanager's flows with OpenStack taskflow: persisted in
the control database, resumable, shared by several taskmanagers.

A flow is saved (a logbook named after its instance, one flow detail,
the factory that builds it and its store) before its first task runs;
taskflow then records each task's state and result as it goes.

* ``[taskflow] jobboard_backend = none``: this taskmanager runs what it
  is cast, in a bounded executor, and at its restart resumes the flows it
  left unfinished, in an executor of their own.
* ``redis``: a cast is posted as a job on a taskflow jobboard in Redis;
  every taskmanager runs a conductor that claims jobs with a lease
  (``claim_lease``) and renews its claims while it runs them. A claim not
  renewed (its taskmanager died) is claimed by another conductor, which
  resumes the flow from its persisted state; a conductor that finds its
  claim gone suspends the flow at the next task, so only one runs it.

Either way a resumed flow skips its completed tasks and runs again the
one that was running; tasks are written so that running again is safe.
"""
import concurrent.futures
import contextlib
import datetime
import random
import socket
import threading
import time

from oslo_log import log as logging
from oslo_utils import uuidutils
import sqlalchemy as sa
from taskflow.conductors.backends import impl_nonblocking
from taskflow import engines
from taskflow.jobs import backends as job_backends
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence import models
from taskflow import states
from taskflow import storage

from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db.models import FLOW_TABLES as models_tables

LOG = logging.getLogger(__name__)
#: Flow states after which a flow is never run again.
FINISHED = (states.SUCCESS, states.REVERTED, states.FAILURE)
#: What a stored context leaves out: a flow acts with the service's own
#: credentials, and its store sits in the database and the jobboard.
CONTEXT_SECRETS = ('auth_token', 'service_catalog', 'auth_token_info')

#: Seconds a flow's save waits for SQLite's write lock.
SQLITE_BUSY_TIMEOUT = 60

_lock = threading.Lock()
_state: dict = {}


def stored_context(context) -> dict:
    return {key: value for key, value in context.to_dict().items()
            if key not in CONTEXT_SECRETS}


#: Seconds a write SQLite refused ("database is locked") is tried again.
LOCKED_RETRY_SECONDS = 60.0


def _locked(error: BaseException | None) -> bool:
    """Whether SQLite refused the write for a lock held by another."""
    seen = 0
    while error is not None and seen < 10:
        if 'database is locked' in str(error):
            return True
        error = getattr(error, 'cause', None) or error.__cause__
        seen += 1
    return False


def _retrying(method):
    """``method`` of a persistence connection, tried again while SQLite
    answers "database is locked" (as db_api.retry_on_locked does for
    our own writes): two transactions that read, then write, cannot both
    upgrade their locks, and SQLite fails one at once. Without this a
    flow saved while others run is lost with its cast, and a running
    flow stops at the step whose state it could not record."""
    def call(*args, **kwargs):
        give_up = time.monotonic() + LOCKED_RETRY_SECONDS
        attempt = 0
        while True:
            try:
                return method(*args, **kwargs)
            except Exception as error:  # noqa: B902 - re-raised unless locked
                if not _locked(error) or time.monotonic() > give_up:
                    raise
            attempt += 1
            time.sleep(min(0.5, 0.01 * 2 ** min(attempt, 6)) +
                       random.random() * 0.02)
    return call


class _RetryingConnection:
    """A taskflow persistence connection whose calls are retried on a
    locked SQLite database (see _retrying)."""

    def __init__(self, connection) -> None:
        self._connection = connection

    def __getattr__(self, name: str):
        value = getattr(self._connection, name)
        if name.startswith('_') or not callable(value):
            return value
        return _retrying(value)


class _Persistence(impl_sqlalchemy.SQLAlchemyBackend):

    def get_connection(self):
        return _RetryingConnection(_retrying(super().get_connection)())


def persistence() -> impl_sqlalchemy.SQLAlchemyBackend:
    """taskflow's SQLAlchemy persistence on the control database (its
    tables are made by trove-manage db_sync): on SQLite its
    transactions take the write lock first (_flow_engine), and a write
    still refused ("database is locked") is tried again (_retrying)."""
    return _Persistence({'connection': CONF.database.connection},
                        engine=_flow_engine())


def _flow_engine() -> sa.engine.Engine:
    """The engine taskflow saves flows with.

    On SQLite, one of its own whose transactions start with BEGIN
    IMMEDIATE: taskflow reads, then writes, in one transaction, and
    SQLite fails a read lock's upgrade at once ("database is locked")
    when another connection writes, where taskflow has no retry; taking
    the write lock first makes it wait (busy timeout) instead. Other
    backends share the control database's engine.
    """
    engine = db_api.get_engine()
    if engine.dialect.name != 'sqlite' or \
            engine.url.database in (None, '', ':memory:'):
        return engine
    key = ('flow_engine', str(engine.url))
    with _lock:
        if key not in _state:
            _state[key] = _immediate_sqlite_engine(engine.url)
        return _state[key]


def _immediate_sqlite_engine(url) -> sa.engine.Engine:
    engine = sa.create_engine(url, connect_args={
        'timeout': SQLITE_BUSY_TIMEOUT, 'check_same_thread': False},
        poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, 'connect')
    def _no_implicit_begin(dbapi_connection, _record) -> None:
        # pysqlite's own BEGIN is deferred; SQLAlchemy emits ours.
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, 'begin')
    def _begin_immediate(connection) -> None:
        connection.exec_driver_sql('BEGIN IMMEDIATE')

    return engine


def _executor(kind: str, size: int) -> concurrent.futures.ThreadPoolExecutor:
    with _lock:
        if kind not in _state:
            _state[kind] = concurrent.futures.ThreadPoolExecutor(
                max_workers=size, thread_name_prefix=kind)
        return _state[kind]


def flows_executor() -> concurrent.futures.ThreadPoolExecutor:
    return _executor('flow', CONF.taskflow.max_flows)


def recovery_executor() -> concurrent.futures.ThreadPoolExecutor:
    return _executor('recovery', CONF.taskflow.max_recovery_flows)


def owner_name() -> str:
    """This taskmanager's name on the jobboard."""
    with _lock:
        if 'owner' not in _state:
            _state['owner'] = '%s-%s' % (socket.gethostname(),
                                         uuidutils.generate_uuid()[:8])
        return _state['owner']


# --- saving a flow -------------------------------------------------------

def save(factory, subject: str, store: dict,
         factory_kwargs: dict | None = None
         ) -> tuple[models.LogBook, models.FlowDetail]:
    """Persist a new flow of ``factory`` about ``subject`` (an instance
    or module id) with its store; returns its logbook and flow detail."""
    flow = factory(**(factory_kwargs or {}))
    book = models.LogBook(subject)
    book.meta = {'subject': subject}
    detail = models.FlowDetail(flow.name, uuidutils.generate_uuid())
    detail.meta = {'store': store}
    # The factory goes in with the flow, in one write: a flow saved
    # without it (its taskmanager killed between two writes) could never
    # be resumed, and its instance would wait for it for ever.
    engines.save_factory_details(detail, factory, (), factory_kwargs or {})
    book.add(detail)
    with contextlib.closing(persistence().get_connection()) as connection:
        connection.save_logbook(book)
    return book, detail


def submit(factory, subject: str, store: dict,
           factory_kwargs: dict | None = None) -> str:
    """Save a flow and have it run: posted on the jobboard, or run here;
    returns the flow's uuid."""
    book, detail = save(factory, subject, store, factory_kwargs)
    board = _state.get('board')
    if board is not None:
        try:
            board.post(detail.name, book=book,
                       details={'flow_uuid': detail.uuid,
                                'subject': subject})
            LOG.info('Flow %s (%s) of %s posted on the jobboard.',
                     detail.name, detail.uuid, subject)
            return detail.uuid
        except Exception:  # noqa: B902 - the flow still runs, here
            LOG.exception('Posting flow %s (%s) failed: running it in '
                          'this taskmanager.', detail.name, detail.uuid)
    flows_executor().submit(run, detail, False)
    return detail.uuid


def run_now(factory, subject: str, store: dict,
            factory_kwargs: dict | None = None) -> str:
    """Save a flow and run it to its end in this thread (recovery and
    tests); returns the flow's uuid."""
    _book, detail = save(factory, subject, store, factory_kwargs)
    run(detail, False)
    return detail.uuid


# --- running a flow ---------------------------------------------------------

def completed(detail: models.FlowDetail) -> list[str]:
    return [atom.name for atom in detail if atom.state == states.SUCCESS
            and not atom.name.startswith('_TaskFlow')]


#: States of a flow that has not run yet.
NOT_STARTED = (None, states.PENDING)


class FlowLog:
    """Logs every task transition of one engine, and a resume: a flow
    that ran before (it has completed tasks, or a state of a run) is
    taken up "after" its completed tasks."""

    def __init__(self, engine, detail: models.FlowDetail,
                 subject: str) -> None:
        self.engine = engine
        self.prefix = 'Flow %s (%s) of instance %s' % (
            detail.name, detail.uuid, subject)
        done = completed(detail)
        if done or detail.state not in NOT_STARTED:
            LOG.info('Resuming flow %s (%s) of instance %s after %s',
                     detail.name, detail.uuid, subject,
                     ', '.join(done) or 'no completed task')

    def _on_atom(self, state, details) -> None:
        LOG.info('%s: task %s -> %s', self.prefix,
                 details.get('task_name') or details.get('retry_name'),
                 state)

    def __enter__(self) -> 'FlowLog':
        self.engine.atom_notifier.register(self.engine.atom_notifier.ANY,
                                           self._on_atom)
        return self

    def __exit__(self, *exc) -> None:
        self.engine.atom_notifier.deregister(self.engine.atom_notifier.ANY,
                                             self._on_atom)


def _subject(detail: models.FlowDetail) -> str:
    return (detail.meta or {}).get('store', {}).get('instance_id') or \
        (detail.meta or {}).get('store', {}).get('module_id') or '-'


def repaired(detail: models.FlowDetail) -> models.FlowDetail:
    """The flow detail, loadable: a taskmanager killed while taskflow set
    up a flow's storage leaves its injector without results, which
    taskflow cannot load ("'NoneType' object has no attribute 'keys'");
    its store is injected again from the saved one anyway."""
    for atom in detail:
        if atom.name == storage.Storage.injector_name and \
                atom.results is None:
            atom.results, atom.state = {}, states.SUCCESS
    return detail


def run(detail: models.FlowDetail, resumed: bool) -> None:
    """Run (or resume) a saved flow here, to its end; the flow's guard
    has reported a failure by the time this returns."""
    store = dict((detail.meta or {}).get('store') or {})
    repaired(detail)
    try:
        engine = engines.load_from_detail(detail, store=store,
                                          backend=persistence(),
                                          engine='serial')
        with FlowLog(engine, detail, _subject(detail)):
            engine.run()
    except Exception as error:  # noqa: B902 - reported by the flow's guard
        LOG.info('Flow %s (%s) ended with %s: %s', detail.name,
                 detail.uuid, type(error).__name__, error)


def unfinished() -> list[models.FlowDetail]:
    """The saved flows that have not finished."""
    found = []
    with contextlib.closing(persistence().get_connection()) as connection:
        for book in connection.get_logbooks(lazy=False):
            for detail in book:
                if detail.state not in FINISHED:
                    found.append(detail)
    return found


def _tables() -> tuple:
    return models_tables.logbooks, models_tables.flowdetails


def unfinished_subjects() -> set[str]:
    """Instance (or module) ids with an unfinished flow: one query."""
    books, details = _tables()
    query = sa.select(books.c.name).select_from(books.join(
        details, details.c.parent_uuid == books.c.uuid)).where(sa.or_(
            details.c.state.is_(None), details.c.state.notin_(FINISHED)))
    with db_api.get_engine().connect() as connection:
        return {row[0] for row in connection.execute(query)}


def resume_unfinished() -> list[str]:
    """At the start of a taskmanager without a jobboard: resume every
    unfinished flow, in the recovery executor; returns their uuids."""
    resumed = []
    for detail in unfinished():
        resumed.append(detail.uuid)
        recovery_executor().submit(run, detail, True)
    return resumed


def forget_finished(age: float) -> int:
    """Delete the saved state of flows finished ``age`` seconds ago or
    more; returns how many logbooks went."""
    books, details = _tables()
    cutoff = db_api.now() - datetime.timedelta(seconds=age)
    running = sa.select(details.c.parent_uuid).where(sa.or_(
        details.c.state.is_(None), details.c.state.notin_(FINISHED)))
    stamp = sa.func.coalesce(details.c.updated_at, details.c.created_at)
    recent = sa.select(details.c.parent_uuid).where(stamp > cutoff)
    old = sa.select(books.c.uuid).where(books.c.uuid.notin_(running),
                                        books.c.uuid.notin_(recent))
    with db_api.get_engine().connect() as connection:
        uuids = [row[0] for row in connection.execute(old)]
    backend = persistence()
    with contextlib.closing(backend.get_connection()) as connection:
        for uuid in uuids:
            connection.destroy_logbook(uuid)
    return len(uuids)


# --- the jobboard --------------------------------------------------------

class LeasedBoard:
    """A jobboard whose claims expire unless renewed (the conductor
    claims without an expiry)."""

    def __init__(self, board, lease: float) -> None:
        self._board = board
        self._lease = lease

    def claim(self, job, who):
        return self._board.claim(job, who, expiry=self._lease)

    def __getattr__(self, name):
        return getattr(self._board, name)


class Conductor(impl_nonblocking.NonBlockingConductor):
    """taskflow's conductor, with the flow log and fencing: it knows the
    engine of each job it runs, so that a lost claim suspends it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.engines: dict = {}

    def _flow_detail_from_job(self, job):
        return repaired(super()._flow_detail_from_job(job))

    def _engine_from_job(self, job):
        engine = super()._engine_from_job(job)
        self.engines[job.uuid] = engine
        return engine

    def _listeners_from_job(self, job, engine):
        listeners = super()._listeners_from_job(job, engine)
        detail = self._flow_detail_from_job(job)
        listeners.append(_Listener(FlowLog(engine, detail,
                                           _subject(detail))))
        return listeners

    def _on_job_done(self, job, fut):
        self.engines.pop(job.uuid, None)
        return super()._on_job_done(job, fut)

    def renew_claims(self, board, lease: float) -> None:
        """Renew the claim of every job this conductor runs; suspend the
        engine of a job whose claim another conductor holds now."""
        for future in list(self._dispatched):
            job = getattr(future, 'job', None)
            if job is None:
                continue
            try:
                owner = board.find_owner(job)
            except Exception:  # noqa: B902 - Redis away: try again later
                LOG.exception('Cannot read the claim of job %s.', job.uuid)
                continue
            if owner != self._name:
                engine = self.engines.get(job.uuid)
                LOG.warning('Job %s is claimed by %s now: suspending its '
                            'flow here.', job.uuid, owner)
                if engine is not None:
                    engine.suspend()
                continue
            job.extend_expiry(lease)


class _Listener:
    """Adapts FlowLog to the conductor's listener protocol."""

    def __init__(self, flow_log: FlowLog) -> None:
        self.flow_log = flow_log

    def __enter__(self):
        return self.flow_log.__enter__()

    def __exit__(self, *exc):
        return self.flow_log.__exit__(*exc)


def board_conf() -> dict:
    conf = CONF.taskflow
    values = {'board': 'redis', 'host': conf.jobboard_redis_host,
              'port': conf.jobboard_redis_port, 'db': conf.jobboard_redis_db,
              'namespace': conf.jobboard_namespace.encode('utf-8')}
    if conf.jobboard_redis_password:
        values['password'] = conf.jobboard_redis_password
    return values


def start() -> None:
    """Start running flows: resume this taskmanager's unfinished ones, or
    connect to the jobboard and start the conductor."""
    if CONF.taskflow.jobboard_backend == 'none':
        resumed = resume_unfinished()
        if resumed:
            LOG.info('Resuming %d unfinished flow(s).', len(resumed))
        return
    board = job_backends.fetch('trove_clone', board_conf(),
                               persistence=persistence())
    board.connect()
    lease = CONF.taskflow.claim_lease
    conductor = Conductor(
        owner_name(), LeasedBoard(board, lease), persistence=persistence(),
        engine='serial', wait_timeout=CONF.taskflow.jobboard_poll_interval,
        max_simultaneous_jobs=CONF.taskflow.max_flows)
    stopping = threading.Event()
    _state.update(board=board, conductor=conductor, stopping=stopping)
    threading.Thread(target=conductor.run, name='conductor',
                     daemon=True).start()

    def heartbeat() -> None:
        while not stopping.wait(lease / 3.0):
            try:
                conductor.renew_claims(board, lease)
            except Exception:  # noqa: B902 - keep renewing
                LOG.exception('Renewing the flow claims failed.')
    threading.Thread(target=heartbeat, name='claims', daemon=True).start()
    LOG.info('Conductor %s claims flows from the jobboard at %s:%d '
             '(lease %.0f s).', owner_name(),
             CONF.taskflow.jobboard_redis_host,
             CONF.taskflow.jobboard_redis_port, lease)


def stop() -> None:
    """Stop claiming; flows running here are suspended at their next task
    and their claims left to expire, so another taskmanager resumes
    them."""
    conductor = _state.pop('conductor', None)
    if conductor is not None:
        conductor.stop()
    stopping = _state.pop('stopping', None)
    if stopping is not None:
        stopping.set()
    board = _state.pop('board', None)
    if board is not None:
        with contextlib.suppress(Exception):
            board.close()
