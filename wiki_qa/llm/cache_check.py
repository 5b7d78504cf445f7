"""A damaged LLM response cache (a truncated or overwritten sqlite file) must not be a mystery.

sqlite reports "database disk image is malformed" with no file name, and `--refresh` used to open the
same file again. `check_db` runs sqlite's own `quick_check` once per process when the cache is opened, so
the error is one line naming the file and saying how to repair it; `repair` moves a damaged file (with its
-wal/-shm companions) aside, which `wiki-qa cache repair` and `wiki-qa build --refresh` do. Neither touches
a file that is not an SQLite database; `complete` creates the tables an undamaged file lacks.
"""
from __future__ import annotations

import datetime
import os
import sqlite3

from wiki_qa.errors import UserError

_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_checked: set[tuple[int, str]] = set()


def _damage(con: sqlite3.Connection) -> str | None:
    """sqlite's reason the file is damaged, or None."""
    try:
        row = con.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as e:
        if getattr(e, "sqlite_errorname", None) in _DAMAGED:
            return str(e)
        raise  # locked, read-only, ...: not damage
    return None if row and row[0] == "ok" else str(row[0] if row else "no answer to quick_check")


def check_db(con: sqlite3.Connection, path: str) -> None:
    """Raise a one-line UserError naming `path` if the freshly opened cache is damaged (checked once per process)."""
    if (os.getpid(), path) in _checked:
        return
    why = _damage(con)
    if why:
        con.close()
        raise UserError(f"the LLM response cache is damaged ({why}); move it aside with `wiki-qa cache repair "
                        f"{path}` or rerun with --refresh (paid responses in it are lost either way)", path=path)
    _checked.add((os.getpid(), path))


SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite(path: str) -> bool:
    """An SQLite database by its header (an empty file is one too: sqlite makes it a database on first use)."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    return head in (b"", SQLITE_MAGIC)


def repair(path: str) -> str | None:
    """Move a damaged cache file (and its -wal/-shm) aside; returns where it went, or None if it was fine.
    A file that is not an SQLite database at all is never touched (`llm.cache` may name any file): that is
    a UserError naming it. Missing tables are created, not moved aside (see `complete`)."""
    if not os.path.exists(path):
        return None
    if not os.path.isfile(path) or not is_sqlite(path):
        raise UserError(f"llm.cache {path} is not an SQLite database; not touching it: point llm.cache at "
                        "another file")
    con = sqlite3.connect(path, timeout=60)
    try:
        why = _damage(con)
    finally:
        con.close()
    if not why:
        return None
    aside = f"{path}.damaged-{datetime.datetime.now().strftime('%Y%m%dT%H%M%S')}"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, aside + suffix)
    _checked.discard((os.getpid(), path))
    return aside


def complete(path: str) -> list[str]:
    """Create the tables and columns an undamaged cache file lacks (a kill or a race between switching it to
    WAL and creating them left it so); returns what was created."""
    from wiki_qa.llm.cache import ensure_schema

    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        return ensure_schema(con)
    finally:
        con.close()
