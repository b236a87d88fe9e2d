"""The users, databases and root capability of a datastore.

The guest agent calls these with plain dicts in the shapes of Trove's API:

* database: ``{'name': str, 'character_set': str | None,
  'collate': str | None}``
* user: ``{'name': str, 'host': str (default '%'), 'password': str,
  'databases': [{'name': str}, ...]}``

Engines that give an operation no meaning raise
:class:`exception.DatastoreOperationNotSupported`; a missing user or
database raises :class:`exception.UserNotFound` /
:class:`exception.DatabaseNotFound`; an existing one
:class:`exception.UserAlreadyExists` /
:class:`exception.DatabaseAlreadyExists`.
"""
import abc

from trove_clone.common import engines
from trove_clone.common import exception


class Accounts(abc.ABC):
    """Users, databases and root of one running engine.

    :param engine: the datastore's :class:`lifecycle.Lifecycle`, started; its
        ``connect()`` (where it has one) gives an administrative
        connection over the local socket.
    """

    #: The datastore name used in "not supported" errors.
    datastore: str = ''
    #: The name ``enable_root`` reports.
    root_name: str = 'root'

    def __init__(self, engine) -> None:
        self.engine = engine

    def not_supported(self, operation: str
                      ) -> exception.DatastoreOperationNotSupported:
        """Trove's error for an ``operation`` this engine gives no
        meaning (:func:`engines.not_supported`)."""
        return engines.not_supported(operation, self.datastore)

    # --- databases ------------------------------------------------------
    @abc.abstractmethod
    def create_databases(self, databases: list[dict]) -> None:
        """Create each database; an existing one raises
        DatabaseAlreadyExists before anything is created."""

    @abc.abstractmethod
    def list_databases(self) -> list[dict]:
        """The user databases (system ones left out), sorted by name."""

    @abc.abstractmethod
    def delete_database(self, name: str) -> None:
        """Drop a database; DatabaseNotFound when it does not exist."""

    # --- users ----------------------------------------------------------
    @abc.abstractmethod
    def create_users(self, users: list[dict]) -> None:
        """Create each user with its password and access to its
        databases; UserAlreadyExists before anything is created."""

    @abc.abstractmethod
    def list_users(self) -> list[dict]:
        """The users (administrative ones and root left out), each with
        ``name``, ``host`` and ``databases``, sorted by name."""

    @abc.abstractmethod
    def get_user(self, name: str, host: str) -> dict:
        """One user as list_users shows it; UserNotFound."""

    @abc.abstractmethod
    def delete_user(self, name: str, host: str) -> None:
        """Drop a user; UserNotFound."""

    @abc.abstractmethod
    def change_passwords(self, users: list[dict]) -> None:
        """Set ``password`` of each ``{'name', 'host', 'password'}``."""

    @abc.abstractmethod
    def update_attributes(self, name: str, host: str,
                          attributes: dict) -> None:
        """Change ``name``, ``host`` and/or ``password`` of a user,
        keeping its access; UserNotFound, or UserAlreadyExists when the
        new name is taken."""

    @abc.abstractmethod
    def grant_access(self, name: str, host: str,
                     databases: list[str]) -> None:
        """Give a user every privilege on each database; UserNotFound or
        DatabaseNotFound."""

    @abc.abstractmethod
    def revoke_access(self, name: str, host: str, database: str) -> None:
        """Take a user's privileges on one database away."""

    @abc.abstractmethod
    def list_access(self, name: str, host: str) -> list[dict]:
        """``[{'name': database}, ...]`` the user may use."""

    # --- root -----------------------------------------------------------
    @abc.abstractmethod
    def enable_root(self, password: str | None = None) -> dict:
        """Enable the superuser for remote logins with ``password`` (a new
        random one when None); returns ``{'name', 'password'}``."""

    @abc.abstractmethod
    def disable_root(self) -> None:
        """Disable remote superuser logins."""

    @abc.abstractmethod
    def is_root_enabled(self) -> bool:
        """Whether remote superuser logins are enabled."""
