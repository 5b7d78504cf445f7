"""Issue 15, findings 1 and 10: hostile tarballs pulled from a bucket (moto S3 on 127.0.0.1)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.publish.conftest import make_build, tree_digest
from tests.security.tarballs import cve_2025_4517, many_members, zero_bomb
from wiki_qa.cli import main
from wiki_qa.errors import UserError
from wiki_qa.publish import load_from_s3


def _upload(s3_env, local: Path, key: str) -> str:
    s3_env["client"].upload_file(str(local), s3_env["bucket"], key)
    return f"s3://{s3_env['bucket']}/{key}"


def _pull(capsys, *argv) -> tuple[int, str]:
    code = main(["pull", *map(str, argv)])
    err = capsys.readouterr().err
    return code, err


def test_pull_of_the_cve_2025_4517_chain_writes_nothing_outside(s3_env, tmp_path, capsys):
    build = make_build(tmp_path / "build")
    home = tmp_path / "home"
    dest = home / "pulled"
    home.mkdir()
    (home / "flag").write_text("original")
    # `pull` unpacks into DEST_PARENT/.pulled.tmp-XXXXXXXX/x, so two levels up is DEST_PARENT
    staged = f"{home}/.pulled.tmp-abcdefgh/x"
    url = _upload(s3_env, cve_2025_4517(tmp_path / "chain.tar.gz", staged, up=2, build=build), "chain.tar.gz")
    code, err = _pull(capsys, url, dest)
    assert code == 2 and err.count("\n") == 1 and "refusing to extract link" in err
    assert (home / "flag").read_text() == "original" and not (home / "newfile").exists()
    assert sorted(p.name for p in home.iterdir()) == ["flag"]  # no destination, no staging folder left


def test_load_from_s3_does_not_overwrite_a_file_beside_its_cache(s3_env, tmp_path):
    build = make_build(tmp_path / "build")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "flag").write_text("original")
    # load_from_s3 unpacks into CACHE/HASH/../.HASH.tmp-XXXXXXXX/x: three levels below CACHE
    staged = f"{cache}/{'h' * 24}/.{'h' * 24}.tmp-abcdefgh/x"
    url = _upload(s3_env, cve_2025_4517(tmp_path / "chain.tar.gz", staged, up=3, build=build), "c.tar.gz")
    with pytest.raises(UserError, match="refusing to extract link"):
        load_from_s3(url, cache_dir=cache)
    assert (cache / "flag").read_text() == "original" and not (cache / "newfile").exists()


def test_tar_bombs_are_refused_with_one_line_and_the_limits_are_flags(s3_env, tmp_path, capsys):
    build = make_build(tmp_path / "build")
    bomb = zero_bomb(tmp_path / "bomb.tar.gz", "innocent/data.arrow", 80 << 20, build=build)
    url = _upload(s3_env, bomb, "bomb.tar.gz")
    code, err = _pull(capsys, url, tmp_path / "a")
    assert code == 2 and err.count("\n") == 1 and "--max-ratio" in err and not (tmp_path / "a").exists()

    code, err = _pull(capsys, url, tmp_path / "b", "--max-bytes", 10_000)
    assert code == 2 and "more than the limit of 10000" in err  # refused from HEAD, before downloading
    assert f"error: {url}: " in err  # errors name the URL, not a temporary file

    code, err = _pull(capsys, url, tmp_path / "c", "--max-ratio", 100_000)
    assert code == 0, err
    assert (tmp_path / "c" / "data.arrow").stat().st_size == 80 << 20
    assert {k: v for k, v in tree_digest(tmp_path / "c").items() if k != "data.arrow"} == tree_digest(build)

    many = _upload(s3_env, many_members(tmp_path / "many.tar.gz", 20_001), "many.tar.gz")
    code, err = _pull(capsys, many, tmp_path / "d")
    assert code == 2 and "more than 20000 members" in err and not (tmp_path / "d").exists()
