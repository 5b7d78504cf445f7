"""Hub publishing against tests/servers/hub_server.py, with pushes and loads in fresh interpreters."""
from __future__ import annotations

import re

import pytest
import yaml

from .conftest import SECRET, make_build, run_py

PUSH = """
import json, wiki_qa.publish as p
out = []
for d, c in {jobs!r}:
    out.append(p.push_to_hub(d, {repo!r}, config_name=c, backoff_s=0.1))
print(json.dumps(out))
"""

# Plain datasets, wiki_qa made unimportable (run_py wiki_qa=False): the done-when.
LOAD = """
import json, sys, datasets
r = {{}}
for c in {configs!r}:
    dd = datasets.load_dataset({repo!r}, c)
    r[c] = {{s: dd[s].to_list() for s in dd}}
s = datasets.load_dataset({repo!r}, {configs!r}[0], split="train", streaming=True)
r["stream"] = list(s)
r["wiki_qa_loaded"] = any(m.startswith("wiki_qa") and sys.modules[m] is not None for m in sys.modules)
print(json.dumps(r))
"""


def _files(hub, repo):
    return dict(hub.state.repos[repo].head[1])


@pytest.mark.slow  # make test-fast leaves it out
def test_push_two_configs_load_without_wiki_qa_stream_and_repush(hub, tmp_path):
    from datasets import load_from_disk

    a = make_build(tmp_path / "a", "yo-qa")
    b = make_build(tmp_path / "b", "ha-qa", splits=(4, 1, 1), source_type="mmlu", lang="ha", generate=False)
    repo = "org/multi"
    # Faults the push must ride out: a 429 on preupload (huggingface_hub retries it) and a 503 on the
    # first repo lookup, which datasets does not retry (our outer backoff loop does).
    hub.state.inject("POST", r"/api/datasets/org/multi/preupload/", 429, times=1)
    hub.state.inject("GET", r"^/api/datasets/org/multi$", 503, times=1)
    before = len(hub.state.log)
    res = run_py(PUSH.format(jobs=[(str(a), "yo"), (str(b), "ha")], repo=repo), hub_url=hub.url,
                 hf_home=tmp_path / "hf1")["out"]
    assert [r["config"] for r in res] == ["yo", "ha"] and res[0]["url"] == f"{hub.url}/datasets/{repo}"
    statuses = [s for _, p, s in hub.state.log[before:] if "org/multi" in p]
    assert 429 in statuses and 503 in statuses  # the faults really happened and were survived

    files = _files(hub, repo)
    assert {"yo", "ha"} == {p.split("/")[0] for p in files if p.endswith(".parquet")}

    got = run_py(LOAD.format(repo=repo, configs=["yo", "ha"]), hub_url=hub.url, hf_home=tmp_path / "hf2",
                 wiki_qa=False, token=None)["out"]
    assert got["wiki_qa_loaded"] is False
    for cfg, folder in (("yo", a), ("ha", b)):
        local = load_from_disk(str(folder))
        assert set(got[cfg]) == {"train", "val", "test"}
        for split in local:
            assert got[cfg][split] == local[split].to_list()
    assert got["stream"] == load_from_disk(str(a))["train"].to_list()

    # Card: YAML from datasets (configs) + ours (licence, languages), one body section per config.
    card = hub.state.blobs[files["README.md"]].decode()
    meta = yaml.safe_load(card.split("---")[1])
    assert {c["config_name"] for c in meta["configs"]} == {"yo", "ha"}
    assert meta["license"] == "other"  # CC BY-SA wiki + MIT mmlu side by side
    assert set(meta["language"]) == {"yo", "ha"}
    assert card.count("<!-- wiki_qa:begin yo -->") == 1 and card.count("<!-- wiki_qa:begin ha -->") == 1
    assert 'load_dataset("org/multi", "yo")' in card and SECRET not in card

    # Re-push of the same build: same files, same card sections (idempotent).
    run_py(PUSH.format(jobs=[(str(a), "yo")], repo=repo), hub_url=hub.url, hf_home=tmp_path / "hf3")
    files2 = _files(hub, repo)
    assert {p: s for p, s in files2.items() if p != "README.md"} == {p: s for p, s in files.items() if p != "README.md"}
    card2 = hub.state.blobs[files2["README.md"]].decode()
    assert card2.count("<!-- wiki_qa:begin yo -->") == 1 and card2.count("<!-- wiki_qa:begin ha -->") == 1
    assert re.sub(r"\s+", " ", card2) == re.sub(r"\s+", " ", card)


VALIDATE = """
import json
from wiki_qa.errors import UserError
from wiki_qa.publish import OutputConfig, validate_destinations
r = {{}}
for name, repo, tok in {cases!r}:
    import os
    if tok is None: os.environ.pop("HF_TOKEN", None)
    else: os.environ["HF_TOKEN"] = tok
    try:
        validate_destinations(OutputConfig(push_to_hub=repo)); r[name] = "ok"
    except UserError as e:
        r[name] = str(e)
print(json.dumps(r))
"""


def test_validate_hub_token_and_permissions(hub, tmp_path):
    cases = [("new_repo", "org/fresh", "hf_test_write"), ("bad_token", "org/fresh", "hf_nope_" + SECRET),
             ("read_only", "org/fresh", "hf_test_read"), ("other_ns", "someone/else", "hf_test_write"),
             ("no_token", "org/fresh", None)]
    r = run_py(VALIDATE.format(cases=cases), hub_url=hub.url, hf_home=tmp_path / "hf")["out"]
    # HF_TOKEN may also come from ./.env (run_py runs in tmp_path)
    (tmp_path / ".env").write_text("HF_TOKEN=hf_test_write\n")
    r2 = run_py(VALIDATE.format(cases=[("dotenv", "org/fromenv", None)]), hub_url=hub.url,
                hf_home=tmp_path / "hf")["out"]
    assert r2 == {"dotenv": "ok"} and "org/fromenv" in hub.state.repos
    assert r["new_repo"] == "ok" and "org/fresh" in hub.state.repos  # created before any build work
    assert r["bad_token"].startswith("output.push_to_hub: ") and "invalid" in r["bad_token"]
    assert "cannot write" in r["read_only"] and "org/fresh" in r["read_only"]
    assert "cannot write" in r["other_ns"] and "someone/else" not in hub.state.repos
    assert "no Hub token" in r["no_token"]
    assert all(SECRET not in v and "\n" not in v for v in r.values())


PUBLISH_FAIL = """
import json
from wiki_qa.publish import OutputConfig, PublishError, publish
try:
    publish({d!r}, OutputConfig(push_to_hub="org/broken", hub_config_name="c1"))
    print(json.dumps({{"error": None}}))
except PublishError as e:
    print(json.dumps({{"error": str(e), "code": e.exit_code}}))
"""


def test_publish_failure_midway_keeps_build_and_says_how_to_retry(hub, tmp_path):
    from .conftest import tree_digest

    d = make_build(tmp_path / "build")
    before = tree_digest(d)
    # LFS objects go up, then the commit is refused: a failure in the middle of the push.
    hub.state.inject("POST", r"/api/datasets/org/broken/commit/", 422, times=50)
    out = run_py(PUBLISH_FAIL.format(d=str(d)), hub_url=hub.url, hf_home=tmp_path / "hf")["out"]
    assert out["code"] == 1
    assert f"retry with: wiki-qa push {d} --hub org/broken --config-name c1" in out["error"]
    assert "\n" not in out["error"] and "hf_test_write" not in out["error"]
    assert tree_digest(d) == before
    hub.state.faults.clear()
