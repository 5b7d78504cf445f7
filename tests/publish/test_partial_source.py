"""A build that saw only part of its input is saved, but never pushed automatically."""
from __future__ import annotations

import json

from wiki_qa.config import from_dict
from wiki_qa.orchestrator import run


def _objects(s3_env) -> list[str]:
    listing = s3_env["client"].list_objects_v2(Bucket=s3_env["bucket"])
    return [o["Key"] for o in listing.get("Contents", [])]


def _cfg(path, tmp_path, s3_env, **extra):
    return from_dict({"name": "vi", "source": {"type": "mediawiki", "path": str(path)}, "format": "text",
                      "output": {"dir": str(tmp_path / "out"), "s3": f"s3://{s3_env['bucket']}/vi.tar.gz"},
                      **extra}, tmp_path / "vi.yaml")


def test_a_truncated_dump_is_built_but_not_pushed(s3_env, mediawiki_dir, tmp_path):
    report = run(_cfg(mediawiki_dir / "viwiki-truncated-no-closing-tag.xml", tmp_path, s3_env))
    assert report["source"]["truncated"] and sum(report["splits"].values()) > 0
    assert "truncated" in report["published"]["skipped"] and _objects(s3_env) == []
    saved = json.loads((tmp_path / "out" / "build_report.json").read_text())
    assert saved["published"] == report["published"]


def test_a_limited_build_is_not_pushed_and_a_whole_one_is(s3_env, mediawiki_dir, tmp_path):
    report = run(_cfg(mediawiki_dir / "simplewiki-7pages.xml", tmp_path, s3_env, limit=2))
    assert "--limit 2" in report["published"]["skipped"] and _objects(s3_env) == []
    report = run(_cfg(mediawiki_dir / "simplewiki-7pages.xml", tmp_path, s3_env))
    assert "skipped" not in report["published"] and _objects(s3_env) == ["vi.tar.gz"]
