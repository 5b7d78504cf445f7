"""Pack a build folder as `<name>.tar.gz` (folder `<name>/` inside, the seed layout) and unpack one safely.

A tarball from a bucket is untrusted input. Checking member names as text is not enough: a chain of
symlinks through very long folder names (CVE-2025-4517) makes `os.path.realpath` give up, and Python
3.11.7's `filter="data"` then lets a later member write outside the destination. So we do not use
`extractall` at all:

- a `save_to_disk` folder holds only folders and regular files, so every other member type (symlinks,
  hard links, devices, FIFOs, sparse files) is refused, before anything is written;
- every member is written by walking its path one component at a time from an open descriptor of the
  destination (`openat` with `O_NOFOLLOW`), so a link that is already on disk is never followed either;
- the number of members, the unpacked size and its ratio to the compressed size are capped (a tar bomb
  is refused from its headers, before its data is unpacked), and the unpacked size must fit on the disk.
"""
from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import tarfile
from pathlib import Path

from wiki_qa.errors import UserError

GiB = 1 << 30


@dataclasses.dataclass(frozen=True)
class TarLimits:
    """What a tarball may unpack to. `wiki-qa pull --max-members/--max-bytes/--max-ratio` sets them."""

    max_members: int = 20_000           # a save_to_disk folder holds a few files per 500 MB shard
    max_bytes: int = 256 * GiB          # total unpacked size
    max_ratio: float = 100.0            # unpacked / compressed; text in arrow files packs about 3-10x
    ratio_floor_bytes: int = 64 << 20   # below this total, the ratio is not checked (tiny builds)


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


def _parts(name: str, source: str) -> tuple[str, ...]:
    """A member name as path components, or a UserError naming it."""
    if "\\" in name or "\0" in name:
        raise UserError(f"refusing to extract {_short(name)!r}: backslash or NUL in the name", path=source)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UserError(f"refusing to extract absolute path {_short(name)!r}", path=source)
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UserError(f"refusing to extract path with '..': {_short(name)!r}", path=source)
    return parts


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else f"{text[:n // 2]}...{text[-n // 2:]}"


def _check_member(member: tarfile.TarInfo, source: str) -> tuple[str, ...]:
    parts = _parts(member.name, source)
    if member.issym() or member.islnk():
        raise UserError(f"refusing to extract link {_short(member.name)!r} -> {_short(member.linkname)!r} "
                        "(a dataset folder holds only folders and files)", path=source)
    if member.issparse() or not (member.isreg() or member.isdir()):
        raise UserError(f"refusing to extract special file {_short(member.name)!r}", path=source)
    if not parts and not member.isdir():
        raise UserError(f"refusing to extract a file without a name ({_short(member.name)!r})", path=source)
    return parts


def _vet(tar: tarfile.TarFile, source: str, compressed: int, limits: TarLimits) -> tuple[list, int]:
    """Read every header (no data is written) and check it. Stops at the first breach, so a bomb of
    300,000 members or of 3 GB is refused without holding or unpacking all of it."""
    members, seen, total = [], set(), 0
    for member in tar:
        if len(members) >= limits.max_members:
            raise UserError(f"more than {limits.max_members} members: not a dataset tarball "
                            "(raise the limit with --max-members)", path=source)
        parts = _check_member(member, source)
        if parts in seen and not member.isdir():
            raise UserError(f"member {_short(member.name)!r} appears twice", path=source)
        seen.add(parts)
        total += member.size if member.isreg() else 0
        if total > limits.max_bytes:
            raise UserError(f"unpacks to more than {limits.max_bytes} bytes (raise the limit with --max-bytes)",
                            path=source)
        if total > max(limits.ratio_floor_bytes, limits.max_ratio * compressed):
            raise UserError(f"unpacks to more than {limits.max_ratio:g}x its compressed size of {compressed} "
                            "bytes: a tar bomb? (raise the limit with --max-ratio)", path=source)
        members.append((member, parts))
    return members, total


def _open_dir(dest_fd: int, parts: tuple[str, ...]) -> int:
    """A descriptor of dest/parts, creating folders on the way and never following a link."""
    fd = os.dup(dest_fd)
    try:
        for part in parts:
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nfd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, parts: tuple[str, ...], dest_fd: int) -> None:
    if member.isdir():
        os.close(_open_dir(dest_fd, parts))
        return
    parent = _open_dir(dest_fd, parts[:-1])
    try:
        mode = 0o755 if member.mode & 0o100 else 0o644  # as filter="data": no setuid, no group/world write
        fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode, dir_fd=parent)
    finally:
        os.close(parent)
    with os.fdopen(fd, "wb") as out, tar.extractfile(member) as src:
        shutil.copyfileobj(src, out, 1 << 20)


def safe_extract(tar_path: str | os.PathLike, dest_dir: str | os.PathLike, limits: TarLimits | None = None,
                 *, source: str | None = None) -> list[str]:
    """Extract `tar_path` into `dest_dir` after vetting every member. Returns the top-level names.
    Errors name `source` (e.g. the s3:// URL it came from), else the file."""
    limits = limits or TarLimits()
    source = source or str(tar_path)
    dest = Path(dest_dir)
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            members, total = _vet(tar, source, os.path.getsize(tar_path), limits)
            dest.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(dest).free
            if total > free:
                raise UserError(f"unpacks to {total} bytes but only {free} are free in {dest}", path=source)
            dest_fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for member, parts in members:
                    _write(tar, member, parts, dest_fd)
            finally:
                os.close(dest_fd)
    except OSError as exc:
        if isinstance(exc, FileExistsError) or exc.errno in (errno.ELOOP, errno.ENOTDIR):  # a link or a file in the way
            raise UserError(f"refusing to extract through an existing link or file ({exc.strerror}: "
                            f"{exc.filename})", path=source) from None
        raise
    except (tarfile.ReadError, tarfile.CompressionError, EOFError, ValueError) as exc:
        raise UserError(f"not a readable tarball ({exc})", path=source) from None
    return sorted({parts[0] for _, parts in members if parts})
