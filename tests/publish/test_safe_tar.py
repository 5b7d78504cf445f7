"""Crafted malicious tarballs must be refused before anything is written (see also tests/security/)."""
from __future__ import annotations

import io
import os
import tarfile

import pytest

from tests.security.tarballs import cve_2025_4517, many_members, zero_bomb
from wiki_qa.errors import UserError
from wiki_qa.publish.safe_tar import TarLimits, make_tarball, safe_extract


def _craft(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name, data=b"pwned"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _special(name, kind, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def _sparse(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.GNUTYPE_SPARSE
    return info, None


@pytest.mark.parametrize("members, reason", [
    ([_file("good/ok.txt"), _file("/tmp/evil-abs.txt")], "absolute path"),
    ([_file("good/ok.txt"), _file("good/../../evil.txt")], "'..'"),
    ([_file("good/ok.txt"), _file("good\\..\\..\\evil.txt")], "backslash"),
    ([_special("good/link", tarfile.SYMTYPE, "../../outside")], "refusing to extract link"),
    ([_special("good/link", tarfile.SYMTYPE, "/etc/passwd")], "refusing to extract link"),
    ([_special("good/hard", tarfile.LNKTYPE, "../outside")], "refusing to extract link"),
    ([_file("n/data.txt"), _special("n/alias", tarfile.SYMTYPE, "data.txt")], "refusing to extract link"),
    ([_special("good/dev", tarfile.CHRTYPE)], "special file"),
    ([_special("good/blk", tarfile.BLKTYPE)], "special file"),
    ([_special("good/fifo", tarfile.FIFOTYPE)], "special file"),
    ([_sparse("good/sparse")], "special file"),
    ([_file("good/a"), _file("good/a", b"second")], "appears twice"),
])
def test_malicious_members_are_refused_and_nothing_is_written(tmp_path, members, reason):
    tar = _craft(tmp_path / "evil.tar.gz", members)
    dest = tmp_path / "sandbox" / "dest"
    dest.mkdir(parents=True)
    with pytest.raises(UserError, match=reason) as err:
        safe_extract(tar, dest)
    assert str(tmp_path / "evil.tar.gz") in str(err.value)
    assert list(dest.iterdir()) == []  # checked up front: not even the harmless first member
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dest", "evil.tar.gz", "sandbox"]


def test_cve_2025_4517_symlink_chain_writes_nothing_outside(tmp_path):
    outer = tmp_path / "outer"
    dest = outer / "dest"
    dest.mkdir(parents=True)
    (outer / "flag").write_text("original")
    tar = cve_2025_4517(tmp_path / "chain.tar.gz", str(dest))
    with pytest.raises(UserError, match="refusing to extract link") as err:
        safe_extract(tar, dest)
    assert len(str(err.value)) < 400  # the 247-character names are shortened in the one-line error
    assert (outer / "flag").read_text() == "original" and not (outer / "newfile").exists()
    assert list(dest.iterdir()) == []


def test_a_link_already_in_the_destination_is_not_followed(tmp_path):
    """Even without links in the archive: a symlink planted in the destination beforehand is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "name").symlink_to(outside)
    src = tmp_path / "src"
    src.mkdir()
    (src / "x.txt").write_text("data")
    tar = make_tarball(src, tmp_path / "ok.tar.gz", arcname="name")
    with pytest.raises(UserError, match="existing link"):
        safe_extract(tar, dest)
    assert list(outside.iterdir()) == []


def test_roundtrip_keeps_content_and_drops_owner_and_dangerous_modes(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("hello")
    (src / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(src / "run.sh", 0o4777)  # setuid + world-writable: must not survive extraction
    tar = make_tarball(src, tmp_path / "x.tar.gz", arcname="name")
    with tarfile.open(tar) as t:
        assert t.getnames() == ["name/run.sh", "name/sub", "name/sub/a.txt"]
        assert all(m.uname == "" and m.uid == 0 for m in t.getmembers())
    assert safe_extract(tar, tmp_path / "out") == ["name"]
    assert (tmp_path / "out" / "name" / "sub" / "a.txt").read_text() == "hello"
    assert (tmp_path / "out" / "name" / "run.sh").stat().st_mode & 0o7777 == 0o755


def test_tar_bomb_by_ratio_is_refused_from_its_header(tmp_path):
    bomb = zero_bomb(tmp_path / "bomb.tar.gz", "name/data-00000-of-00001.arrow", 70 << 20)
    assert bomb.stat().st_size < 100_000  # 70 MB of zeros in under 100 KB
    with pytest.raises(UserError, match=r"more than 100x its compressed size .*--max-ratio"):
        safe_extract(bomb, tmp_path / "out")
    assert not any((tmp_path / "out").rglob("*"))
    # Below the floor the ratio is not checked; a caller who knows the data packs that well may allow it.
    small = zero_bomb(tmp_path / "small.tar.gz", "name/data.arrow", 3 << 20)
    with pytest.raises(UserError, match="compressed size"):
        safe_extract(small, tmp_path / "out", TarLimits(ratio_floor_bytes=0))
    assert safe_extract(small, tmp_path / "ok", TarLimits(ratio_floor_bytes=0, max_ratio=10_000)) == ["name"]
    assert (tmp_path / "ok" / "name" / "data.arrow").stat().st_size == 3 << 20


def test_tar_bomb_by_size_and_by_member_count(tmp_path):
    bomb = zero_bomb(tmp_path / "big.tar.gz", "name/big.arrow", 5 << 20)
    with pytest.raises(UserError, match=r"more than 1000000 bytes .*--max-bytes"):
        safe_extract(bomb, tmp_path / "out", TarLimits(max_bytes=1_000_000))
    many = many_members(tmp_path / "many.tar.gz", TarLimits().max_members + 1)
    with pytest.raises(UserError, match=r"more than 20000 members: .*--max-members"):
        safe_extract(many, tmp_path / "out2")
    assert not any((tmp_path / "out2").rglob("*"))
    few = many_members(tmp_path / "few.tar.gz", 50)
    assert safe_extract(few, tmp_path / "out3", TarLimits(max_members=50)) == ["x"]
    with pytest.raises(UserError, match="more than 49 members"):
        safe_extract(few, tmp_path / "out4", TarLimits(max_members=49))


def test_garbage_and_truncated_tarballs_are_user_errors(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"this is not a tarball")
    with pytest.raises(UserError, match="not a readable tarball"):
        safe_extract(bad, tmp_path / "o")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(200_000))
    good = make_tarball(src, tmp_path / "good.tar.gz", arcname="n")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:100_000])
    with pytest.raises(UserError, match="not a readable tarball"):
        safe_extract(cut, tmp_path / "o2")
