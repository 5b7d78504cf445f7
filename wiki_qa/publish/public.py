"""What published files (build_report.json, the dataset card, the HTML report) may say about local paths.

A build folder is shared: it goes to the Hub, to a bucket, to colleagues. It must not carry the builder's
user name, home folder, virtualenv or cache paths, nor credentials in URLs. So every path is shown relative
to the config's folder when it lies inside it (`data/demowiki.xml`), else by its file name alone (the
report's file table has its sha256 beside it); URLs are redacted (userinfo and credential query values).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from wiki_qa.secrets import redact

# An absolute path inside free text: starts at a "/" that is not part of a URL or of a word.
_PATH_IN_TEXT = re.compile(r"(?<![\w:/.~-])(/[^\s'\"`,;()<>]+)")
_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[\\/]")


def _looks_absolute(s: str) -> bool:
    return (s.startswith(("/", "~/")) or s == "~" or bool(_WINDOWS_ABS.match(s))) and "\n" not in s \
        and len(s) < 4096


def public_path(value: str, base: str | os.PathLike | None) -> str:
    """`value` as a published file may show it: relative to `base` if inside, else the file name."""
    value = str(value)
    if "://" in value:
        return redact(value)
    if not _looks_absolute(value):
        return value
    p = Path(os.path.expanduser(value))
    if base is not None:
        try:
            rel = Path(os.path.abspath(p)).relative_to(Path(os.path.abspath(base)))
            return rel.as_posix() or "."
        except ValueError:
            pass
    return p.name or "."


def public_text(text: str, base: str | os.PathLike | None) -> str:
    """Free text (a warning, an error) with credentials redacted and absolute paths made public."""
    return _PATH_IN_TEXT.sub(lambda m: public_path(m.group(1), base), redact(str(text)))


def public_paths(obj: Any, base: str | os.PathLike | None) -> Any:
    """A copy of a JSON-like tree in which every string that is a path or URL is made public and every
    other string is redacted (free text such as a prompt is not searched for paths: see public_text)."""
    if isinstance(obj, dict):
        return {k: public_paths(v, base) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [public_paths(v, base) for v in obj]
    if isinstance(obj, str):
        return public_path(obj, base) if _looks_absolute(obj) else redact(obj)
    return obj
