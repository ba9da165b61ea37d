"""The operational store: SQLite (default, WAL) or PostgreSQL behind one interface.

Only this package writes SQL. Areas reach the database through :class:`Store` and the
repository modules next to it.
"""

from pesaguard.store.base import Store, open_store

__all__ = ["Store", "open_store"]
