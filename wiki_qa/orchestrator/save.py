"""Writing a build folder so that a dead build never leaves output that looks complete, and a careless
`output.dir` never deletes a folder that is not an earlier build.

- `claim_output_dir(out, force)` runs before any work: `out` must be missing, empty or an earlier wiki_qa
  build (its marker file, or build_report.json + dataset_dict.json); `--force` overrides that, but never
  for `/`, the home folder, the working folder or a folder that holds one of them.
- `save_atomically` writes into `.NAME.tmp-PID` beside `out` and swaps it in with two renames:
  `out -> .NAME.old-PID`, `.NAME.tmp-PID -> out`. A process killed in between leaves `out` missing and
  the previous build in `.NAME.old-PID`; the next run (`recover`) renames it back before doing anything,
  and removes the `.tmp-PID` / `.old-PID` folders of processes that are gone.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Callable

import datasets

from wiki_qa.errors import UserError
from wiki_qa.executor.local import save_rows as save_dataset_dict  # how a local build writes its rows

log = logging.getLogger("wiki_qa")

MARKER = ".wiki_qa_build"  # written into every build folder: "this folder may be replaced by a build"


def _is_build(folder: Path) -> bool:
    return (folder / MARKER).is_file() or ((folder / "build_report.json").is_file()
                                           and (folder / "dataset_dict.json").is_file())


def _protected(out: Path) -> str | None:
    """Why `out` may never be replaced, even with --force (or None)."""
    real = out.resolve()
    for what, place in (("the working folder", Path.cwd()), ("the home folder", Path.home())):
        place = place.resolve()
        if real == place:
            return what
        if real in place.parents:
            return f"a folder that holds {what} ({place})"
    if real == Path(real.anchor):
        return "the root folder"
    return None


def claim_output_dir(out: str | os.PathLike, *, force: bool = False) -> Path:
    """Before any work: raise UserError (exit 2) unless `out` may be replaced by this build."""
    out = Path(out)
    why = _protected(out)
    if why:
        raise UserError(f"output.dir is {why}: refusing to replace it (choose another --output)", path=str(out))
    recover(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        if not force:
            raise UserError("output.dir is not a folder: refusing to replace it (--force replaces it)", path=str(out))
    elif out.exists() and any(out.iterdir()) and not _is_build(out) and not force:
        raise UserError("output.dir holds files that are not a wiki_qa build: refusing to replace them "
                        "(choose another --output, or --force to replace the folder)", path=str(out))
    return out


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def recover(out: Path) -> None:
    """Undo what a killed save left beside `out`: the previous build comes back if `out` is missing,
    and temporary folders of dead processes are removed."""
    parent = out.parent
    if not parent.is_dir():
        return
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(tmp|old)-(\d+)")
    leftovers = sorted(((m[1], int(m[2]), p) for p in parent.iterdir() if (m := pattern.fullmatch(p.name))),
                       key=lambda x: x[0] == "tmp")  # .old first: it may have to become `out` again
    for kind, pid, path in leftovers:
        if _pid_alive(pid):
            continue
        if kind == "old" and not out.exists() and not out.is_symlink():
            path.rename(out)
            log.warning("%s: restored the previous build, left aside by a save that was killed (pid %d)", out, pid)
        else:
            _remove(path)
            log.info("%s: removed %s, left by a save that was killed (pid %d)", out, path.name, pid)


def save_atomically(dsd: datasets.DatasetDict, out: Path, finish: Callable[[Path], None],
                    write: Callable[[datasets.DatasetDict, str], None] | None = None) -> None:
    """save_to_disk into `.NAME.tmp-PID`, `finish(tmp)` adds the extras, then the folder replaces `out`.
    `write(dsd, folder)` writes the rows: the executor's save_rows (the local one by default; the Ray one
    has its workers write them, so the driver never reads every row)."""
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    _remove(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    try:
        (write or save_dataset_dict)(dsd, str(tmp))
        finish(tmp)
        (tmp / MARKER).write_text(json.dumps({"wiki_qa": "build folder; `wiki-qa build` may replace it"}) + "\n")
        if out.exists() or out.is_symlink():
            out.rename(old)
            tmp.rename(out)  # a kill before this line is undone by `recover` on the next run
            _remove(old)
        else:
            tmp.rename(out)
    finally:
        _remove(tmp)
