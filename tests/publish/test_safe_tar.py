"""Crafted malicious tarballs must be refused before anything is written."""
from __future__ import annotations

import io
import tarfile

import pytest

from wiki_qa.errors import UserError
from wiki_qa.publish.safe_tar import make_tarball, safe_extract


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


@pytest.mark.parametrize("members, reason", [
    ([_file("good/ok.txt"), _file("/tmp/evil-abs.txt")], "absolute path"),
    ([_file("good/ok.txt"), _file("good/../../evil.txt")], "'..'"),
    ([_special("good/link", tarfile.SYMTYPE, "../../outside")], "pointing outside"),
    ([_special("good/link", tarfile.SYMTYPE, "/etc/passwd")], "pointing outside"),
    ([_special("good/hard", tarfile.LNKTYPE, "../outside")], "pointing outside"),
    ([_special("good/dev", tarfile.CHRTYPE)], "special file"),
    ([_special("good/blk", tarfile.BLKTYPE)], "special file"),
    ([_special("good/fifo", tarfile.FIFOTYPE)], "special file"),
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


def test_links_inside_the_archive_and_roundtrip_are_fine(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("hello")
    tar = make_tarball(src, tmp_path / "x.tar.gz", arcname="name")
    with tarfile.open(tar) as t:
        assert t.getnames() == ["name/sub", "name/sub/a.txt"]
        assert all(m.uname == "" and m.uid == 0 for m in t.getmembers())
    assert safe_extract(tar, tmp_path / "out") == ["name"]
    assert (tmp_path / "out" / "name" / "sub" / "a.txt").read_text() == "hello"

    inner = _craft(tmp_path / "inner.tar.gz", [_file("n/data.txt", b"x"),
                                               _special("n/alias", tarfile.SYMTYPE, "data.txt")])
    safe_extract(inner, tmp_path / "out2")
    assert (tmp_path / "out2" / "n" / "alias").read_bytes() == b"x"


def test_garbage_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"this is not a tarball")
    with pytest.raises(UserError, match="not a readable tarball"):
        safe_extract(bad, tmp_path / "o")
