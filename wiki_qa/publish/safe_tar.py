"""Pack a build folder as `<name>.tar.gz` (folder `<name>/` inside, the seed layout) and unpack it safely.

A tarball from a bucket is untrusted input: a crafted member could write outside the target
(`/etc/x`, `../../x`), plant a link that points outside, or create a device node. We check every member
ourselves first (so the error names the member), then extract with tarfile's `data` filter as a second
line of defence.
"""
from __future__ import annotations

import os
import posixpath
import tarfile
from pathlib import Path

from wiki_qa.errors import UserError


def make_tarball(src_dir: str | os.PathLike, dest: str | os.PathLike, arcname: str) -> Path:
    """Write `dest` (.tar.gz) with `src_dir`'s content under the folder `arcname/`."""
    dest = Path(dest)
    with tarfile.open(dest, "w:gz", compresslevel=6) as tar:
        # sorted => byte-identical member order between runs; no uid/user names leak from this machine
        for path in sorted(Path(src_dir).rglob("*")):
            rel = path.relative_to(src_dir).as_posix()
            tar.add(path, arcname=f"{arcname}/{rel}", recursive=False, filter=_anonymise)
    return dest


def _anonymise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _check_member(member: tarfile.TarInfo, source: str) -> None:
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UserError(f"refusing to extract absolute path {name!r}", path=source)
    if ".." in parts:
        raise UserError(f"refusing to extract path with '..': {name!r}", path=source)
    if member.isdev() or member.isfifo() or not (member.isfile() or member.isdir() or member.issym()
                                                 or member.islnk()):
        raise UserError(f"refusing to extract special file {name!r}", path=source)
    if member.issym() or member.islnk():
        target = member.linkname
        # symlink targets are relative to the link's folder; hard link targets to the archive root
        base = posixpath.dirname(name) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            raise UserError(f"refusing to extract link {name!r} pointing outside ({target!r})", path=source)


def safe_extract(tar_path: str | os.PathLike, dest_dir: str | os.PathLike) -> list[str]:
    """Extract `tar_path` into `dest_dir` after vetting every member. Returns the top-level names."""
    source = str(tar_path)
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, source)
            tar.extractall(dest_dir, members=members, filter="data")
    except tarfile.FilterError as exc:  # our checks should have caught it first; keep the one-line contract
        raise UserError(f"unsafe tarball member: {exc}", path=source) from None
    except (tarfile.ReadError, EOFError) as exc:
        raise UserError(f"not a readable tarball ({exc})", path=source) from None
    return sorted({m.name.split("/")[0] for m in members if m.name.split("/")[0] not in ("", ".")})
