"""The Ray engine gives the local engine's output, row for row, and shares its LLM cache."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from wiki_qa.config import from_dict, load_config
from wiki_qa.orchestrator import dataset_dict
from wiki_qa.rows import SPLITS

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def simplewiki(mediawiki_dir) -> Path:
    return mediawiki_dir / "simplewiki-7pages.xml"


def tables(dsd):
    import pyarrow as pa

    return {s: pa.Table.from_pylist(dsd[s].to_list(), schema=dsd[s].features.arrow_schema) for s in SPLITS}


def same(a, b):
    ta, tb = tables(a), tables(b)
    for s in SPLITS:
        assert ta[s].schema == tb[s].schema, (s, ta[s].schema, tb[s].schema)
        if not ta[s].num_rows:
            assert not tb[s].num_rows
            continue
        assert ta[s]["id"].to_pylist() == tb[s]["id"].to_pylist(), s
        assert ta[s].equals(tb[s]), s


def build(cfg, engine, tmp_path, num_proc=None, refresh=True):
    cfg = cfg.model_copy(update={"engine": engine})
    return dataset_dict(cfg, num_proc=num_proc, cache_dir=str(tmp_path / engine), refresh=refresh,
                        with_report=True)


def same_report(ra, rb):
    for k in ("source", "chunks", "dropped", "splits"):
        assert ra[k] == rb[k], k


def test_demo_same_rows_and_counts(ray_local, tmp_path):
    cfg = load_config("demo-text")
    (a, ra), (b, rb) = build(cfg, "local", tmp_path), build(cfg, "ray", tmp_path)
    assert sum(ra["splits"].values()) > 0
    same(a, b)
    same_report(ra, rb)


def test_real_dump_same_rows_whatever_the_parts(ray_local, tmp_path, simplewiki):
    # local in one process (1 part), Ray cut into 2 parts per file: the canonical order makes them equal
    cfg = from_dict({"name": "sw", "source": {"type": "mediawiki", "path": str(simplewiki)}, "format": "text",
                     "chunk": {"max_tokens": 128}})
    (a, ra), (b, rb) = build(cfg, "local", tmp_path), build(cfg, "ray", tmp_path, num_proc=2)
    assert ra["chunks"] > 7
    same(a, b)
    same_report(ra, rb)
    # and the local engine with 2 processes gives the same rows too
    c, _ = build(cfg, "local", tmp_path / "np2", num_proc=2)
    same(a, c)


def _closed_port() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/v1"


def _llm_cfg(simplewiki, generate):
    return from_dict({"name": "sw-qa", "source": {"type": "mediawiki", "path": str(simplewiki)},
                      "chunk": {"max_tokens": 256}, "format": "completion",
                      "generate": {"model": "fake-model", "max_retries": 5, "timeout_s": 2.0, **generate}})


def test_generate_two_endpoints_one_failing_and_resume_across_engines(ray_local, fake_servers, tmp_path,
                                                                      monkeypatch, simplewiki):
    good, bad = fake_servers["good"], fake_servers["bad"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    # Baseline: the local engine on the good server alone.
    base_cfg = _llm_cfg(simplewiki, {"base_url": good.base_url, "concurrency": 4,
                                   "cache": str(tmp_path / "local.sqlite")})
    good.reset()
    base, rbase = build(base_cfg, "local", tmp_path / "l1")
    n_chunks = rbase["llm"]["outcomes"]["ok"]
    assert n_chunks == rbase["chunks"] > 0 and good.stats()["chat"] == n_chunks

    # Two endpoints, one always 500, one refusing connections: both leave the rotation, the build completes.
    eps = [{"base_url": good.base_url, "concurrency": 2}, {"base_url": bad.base_url, "concurrency": 2},
           {"base_url": _closed_port(), "concurrency": 2}]
    for engine, cache in (("local", "two-local.sqlite"), ("ray", "two-ray.sqlite")):
        good.reset()
        bad.reset(faults={"500": 1.0}, fault_attempts=10 ** 6)
        cfg = _llm_cfg(simplewiki, {"endpoints": eps, "endpoint_failures": 2, "endpoint_cooldown_s": 30,
                                  "cache": str(tmp_path / cache)})
        out, rep = build(cfg, engine, tmp_path / f"two-{engine}")
        assert rep["llm"]["outcomes"] == {"ok": n_chunks, "partial": 0, "failed": 0}, (engine, rep["llm"])
        assert 1 <= bad.stats()["by_kind"].get("500", 0), engine  # tried, then out of rotation
        assert good.stats()["chat"] == n_chunks, engine
        same(base, out)

    # Ray resumes from the local engine's cache: zero requests, same rows.
    good.reset()
    out, rep = build(base_cfg, "ray", tmp_path / "resume", refresh=False)
    assert good.stats()["chat"] == 0 and rep["llm"]["requests"] == 0 and rep["llm"]["cache_hits"] == n_chunks
    same(base, out)


def test_ray_resumes_finished_shards_and_keeps_rows(ray_local, tmp_path, mediawiki_dir):
    """Each shard's record is written after its files: a second run reads only the shards without one."""
    from wiki_qa.executor.ray import staging_folder

    paths = [str(mediawiki_dir / n) for n in ("simplewiki-7pages.xml", "enwiki-pear.xml", "ltgwiki-tiny-edgecases.xml")]
    cfg = from_dict({"name": "resume", "source": {"type": "mediawiki", "path": paths}, "format": "text",
                     "chunk": {"max_tokens": 128}, "engine": "ray"})
    first, r1 = build(cfg, "ray", tmp_path)
    folder, _ = staging_folder(cfg, str(tmp_path / "ray"))

    def files():
        return sorted(p.rsplit("/", 1)[-1] for p in folder.fs.ls(folder.path("files"), detail=False)
                      if p.endswith((".train.arrow", ".val.arrow", ".test.arrow")))

    before = files()
    records = {n.rsplit("/", 1)[-1]: folder.read_json(f"done/{n.rsplit('/', 1)[-1]}")
               for n in folder.fs.ls(folder.path("done"), detail=False)}
    assert len(records) == 3
    # a run that died before the second shard's record was written
    lost_name, lost = sorted(records.items())[1]
    folder.fs.rm(folder.path("done", lost_name))
    again, r2 = build(cfg, "ray", tmp_path, refresh=False)
    after = files()
    kept = [f for f in before if not f.startswith(lost["unit"])]
    assert set(kept) <= set(after)  # the other shards were not read again
    redone = [f for f in after if f.startswith(lost["unit"])]
    assert redone and not set(redone) & set(before)  # a new attempt for the lost one; the old files dropped
    same(first, again)
    same_report(r1, r2)


def test_ray_user_error_in_a_shard_is_one_line(ray_local, tmp_path, simplewiki):
    from wiki_qa.errors import UserError

    cfg = from_dict({"name": "bad-ns", "source": {"type": "mediawiki", "path": str(simplewiki), "namespaces": ["Nope"]},
                     "engine": "ray"})
    with pytest.raises(UserError, match=r"simplewiki-7pages.xml: source.namespaces: 'Nope' is not a namespace") as e:
        build(cfg, "ray", tmp_path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("fmt", ["messages", "text"])
def test_format_map_runs_on_ray_workers_with_the_local_rows(ray_local, tmp_path, data_dir, monkeypatch, fmt):
    """Rows the format must rebuild (MMLU examples as chat messages or through the text template) are
    mapped by Ray tasks, not by the driver; the rows equal the local engine's."""
    from wiki_qa.pipeline import formats

    cfg = from_dict({"name": "mm", "source": {"type": "mmlu", "path": str(data_dir / "mmlu"),
                                              "splits": {"dev": "train", "val": "test"}},
                     "format": fmt})
    in_driver = []
    real_apply = formats.apply
    monkeypatch.setattr(formats, "apply", lambda ds, f, num_proc=None: in_driver.append(
        not formats.is_projection(ds, f) and ds.num_rows > 0) or real_apply(ds, f, num_proc))
    (a, _), (b, _) = build(cfg, "local", tmp_path), build(cfg, "ray", tmp_path)
    same(a, b)
    mapped = sum(1 for s in SPLITS if a[s].num_rows)
    assert mapped >= 2 and in_driver.count(True) == mapped  # rows mapped here: the local engine's; Ray's in tasks
    assert all(any("cache-" in f["filename"] for f in b[s].cache_files) for s in SPLITS if b[s].num_rows)


def test_a_format_error_in_a_ray_worker_is_one_line(ray_local, tmp_path, simplewiki):
    from wiki_qa.errors import UserError

    cfg = from_dict({"name": "sw", "source": {"type": "mediawiki", "path": str(simplewiki)}, "format": "messages"})
    with pytest.raises(UserError) as e:
        build(cfg, "ray", tmp_path)
    assert "needs prompt/completion rows" in str(e.value) and "\n" not in str(e.value)


def test_rows_saved_by_ray_workers_load_back_the_same(ray_local, tmp_path):
    """The Ray save: parts of each split written by tasks, gathered into one save_to_disk folder (empty
    splits too) that loads back as the local save's."""
    import datasets

    from wiki_qa.executor import local
    from wiki_qa.executor import ray as ray_exec

    ds = datasets.Dataset.from_dict({"id": [f"d:{i}#0" for i in range(50)], "text": [f"row {i}" for i in range(50)]})
    ds.save_to_disk(str(tmp_path / "src"))
    mapped = datasets.load_from_disk(str(tmp_path / "src"))  # memory-mapped, as a build's rows are
    dsd = datasets.DatasetDict({"train": mapped.select(range(40)), "val": mapped.select(range(40, 41)),
                                "test": mapped.select([])})
    local.save_rows(dsd, str(tmp_path / "one"))
    ray_exec.save_rows(dsd, str(tmp_path / "two"), num_proc=2)
    one, two = datasets.load_from_disk(str(tmp_path / "one")), datasets.load_from_disk(str(tmp_path / "two"))
    assert list(two) == list(SPLITS)
    for s in SPLITS:
        assert two[s].to_list() == one[s].to_list() == dsd[s].to_list(), s
        assert two[s].features == one[s].features
    assert len(list((tmp_path / "two" / "train").glob("data-*.arrow"))) == 4  # 2 CPUs x 2 parts
    assert not list((tmp_path / "two").rglob(".part-*"))
