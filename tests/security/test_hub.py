"""Issue 15, finding 4 and the Hub part of 14, against tests/servers/hub_server.py: `--private` never
publishes publicly, a push never silently replaces another build's config, and a build with an empty split
loads with plain `load_dataset(repo, config)`."""
from __future__ import annotations

import json
import shlex

import pytest
import yaml

from tests.publish.conftest import make_build, run_py

CLI = """
import json
from wiki_qa.cli import main
print(json.dumps({{"code": main({argv!r})}}))
"""


def _cli(hub, tmp_path, *argv) -> tuple[int, str]:
    r = run_py(CLI.format(argv=[str(a) for a in argv]), hub_url=hub.url, hf_home=tmp_path / "hf")
    return r["out"]["code"], r["stderr"]


def _commits(hub, repo) -> int:
    return len(hub.state.repos[repo].commits)


def test_private_on_an_existing_public_repo_needs_make_private(hub, tmp_path):
    a = make_build(tmp_path / "a", "yo-qa")
    repo = "org/was-public"
    assert _cli(hub, tmp_path, "push", a, "--hub", repo, "--config-name", "yo")[0] == 0
    assert hub.state.repos[repo].private is False
    before = _commits(hub, repo)

    code, err = _cli(hub, tmp_path, "push", a, "--hub", repo, "--config-name", "yo", "--private")
    assert code == 2 and "is public" in err and "--make-private" in err
    assert err.strip().splitlines()[-1].startswith("wiki-qa: error:")
    assert hub.state.repos[repo].private is False and _commits(hub, repo) == before  # nothing was pushed

    # The check before a build (output.hub_private) refuses it too, before any work.
    r = run_py(f"""
import json
from wiki_qa.errors import UserError
from wiki_qa.publish import OutputConfig, validate_destinations
try:
    validate_destinations(OutputConfig(push_to_hub={repo!r}, hub_private=True), build={{"name": "yo-qa",
                          "format": "completion"}})
    print(json.dumps("ok"))
except UserError as e:
    print(json.dumps(str(e)))
""", hub_url=hub.url, hf_home=tmp_path / "hf")["out"]
    assert r.startswith("output.push_to_hub: ") and "is public" in r

    code, err = _cli(hub, tmp_path, "push", a, "--hub", repo, "--config-name", "yo", "--private", "--make-private")
    assert code == 0, err
    assert hub.state.repos[repo].private is True
    listed = run_py(f"""
import json, datasets
try:
    datasets.load_dataset({repo!r}, "yo"); print(json.dumps("loaded"))
except Exception as e:
    print(json.dumps(type(e).__name__))
""", hub_url=hub.url, hf_home=tmp_path / "anon", wiki_qa=False, token=None)["out"]
    assert listed != "loaded"  # anonymous readers no longer see it


def test_another_build_in_the_same_config_needs_overwrite(hub, tmp_path):
    repo = "org/shared"
    first = make_build(tmp_path / "first", "yo-qa")
    renamed = make_build(tmp_path / "renamed", "ha-qa", lang="ha")
    reformatted = make_build(tmp_path / "reformatted", "yo-qa")
    report = json.loads((reformatted / "build_report.json").read_text())
    report["config"]["format"] = "text"
    (reformatted / "build_report.json").write_text(json.dumps(report))

    assert _cli(hub, tmp_path, "push", first, "--hub", repo, "--config-name", "c")[0] == 0
    files = dict(hub.state.repos[repo].head[1])
    for other, what in ((renamed, "'ha-qa'"), (reformatted, "format 'text'")):
        code, err = _cli(hub, tmp_path, "push", other, "--hub", repo, "--config-name", "c")
        assert code == 2 and "already holds build 'yo-qa', format 'completion'" in err and what in err
        assert "--overwrite" in err and dict(hub.state.repos[repo].head[1]) == files

    assert _cli(hub, tmp_path, "push", first, "--hub", repo, "--config-name", "c")[0] == 0  # same build: fine
    assert _cli(hub, tmp_path, "push", renamed, "--hub", repo, "--config-name", "other")[0] == 0  # new config
    code, err = _cli(hub, tmp_path, "push", renamed, "--hub", repo, "--config-name", "c", "--overwrite")
    assert code == 0, err
    card = hub.state.blobs[hub.state.repos[repo].head[1]["README.md"]].decode()
    assert '<!-- wiki_qa:build {"format": "completion", "name": "ha-qa"} -->' in card
    assert card.count("wiki_qa:build") == 2  # configs c and other


def test_empty_split_is_left_out_and_plain_load_dataset_works(hub, tmp_path):
    repo = "org/empty-split"
    full = make_build(tmp_path / "full", "yo-qa", splits=(6, 2, 2))
    assert _cli(hub, tmp_path, "push", full, "--hub", repo, "--config-name", "yo")[0] == 0
    assert any(p.startswith("yo/test-") for p in hub.state.repos[repo].head[1])
    part = make_build(tmp_path / "part", "yo-qa", splits=(6, 2, 0))  # the same build, test now empty
    code, err = _cli(hub, tmp_path, "push", part, "--hub", repo, "--config-name", "yo")
    assert code == 0, err
    files = hub.state.repos[repo].head[1]
    assert not any(p.startswith("yo/test-") for p in files)  # the old test split went with it

    got = run_py(f"""
import json, datasets
dd = datasets.load_dataset({repo!r}, "yo")
print(json.dumps({{s: [dd[s].num_rows, dd[s].column_names] for s in dd}}))
""", hub_url=hub.url, hf_home=tmp_path / "plain", wiki_qa=False, token=None)["out"]
    assert {s: n for s, (n, _) in got.items()} == {"train": 6, "val": 2}
    assert all("prompt" in cols and "completion" in cols and "meta" in cols for _, cols in got.values())
    card = files["README.md"]
    text = hub.state.blobs[card].decode()
    meta = yaml.safe_load(text.split("---")[1])
    assert [s["split"] for s in meta["configs"][0]["data_files"]] == ["train", "val"]
    assert "Splits without rows (test) are left out of this config" in text


PUBLISH = """
import json
from wiki_qa.publish import OutputConfig, PublishError, publish
try:
    publish({d!r}, OutputConfig(push_to_hub={repo!r}, hub_config_name="yo"))
    print(json.dumps(None))
except PublishError as e:
    print(json.dumps(str(e)))
"""


def _card_and_configs(hub, repo) -> tuple[str, list]:
    files = hub.state.repos[repo].head[1]
    text = hub.state.blobs[files["README.md"]].decode() if "README.md" in files else ""
    meta = yaml.safe_load(text.split("---")[1]) if text.startswith("---") else {}
    return text, [c["config_name"] for c in (meta or {}).get("configs") or []]


@pytest.mark.parametrize("cut", [0, 1])  # the push's first commit fails, or its second
def test_an_interrupted_hub_push_never_publishes_data_without_the_card_and_its_retry_works(hub, tmp_path, cut):
    """Issue 24, finding 12: the data went up in one commit and wiki_qa's card in the next; a push cut
    between them left the config loadable with no licence or provenance, and the printed retry command was
    refused without --overwrite (the config held "a build not recorded by wiki_qa"). Now the card, with the
    build's record, goes first: the data never stands without it, and the retry is the same build."""
    repo = f"org/cut-{cut}"
    d = make_build(tmp_path / "build", "yo-qa")
    # a refused commit (422: not retried) stands for a push killed at that point
    hub.state.inject("POST", rf"/api/datasets/{repo}/commit/", 422, times=10 ** 6, skip=cut)
    try:
        error = run_py(PUBLISH.format(d=str(d), repo=repo), hub_url=hub.url, hf_home=tmp_path / "hf")["out"]
    finally:
        hub.state.faults.clear()
    assert error and "retry with: wiki-qa push" in error
    text, configs = _card_and_configs(hub, repo)
    if "yo" in configs:  # data went up: the card with the build's record is there too
        assert '<!-- wiki_qa:build {"format": "completion", "name": "yo-qa"} -->' in text
    retry = shlex.split(error.split("retry with: ", 1)[1])
    assert retry[:2] == ["wiki-qa", "push"] and "--overwrite" not in retry
    before = _commits(hub, repo)
    code, err = _cli(hub, tmp_path, *retry[1:])
    assert code == 0, err  # before: exit 2, "already holds a build not recorded by wiki_qa"
    text, configs = _card_and_configs(hub, repo)
    assert configs == ["yo"] and text.count("wiki_qa:build") == 1 and "yo-qa" in text
    assert _commits(hub, repo) - before <= 2  # the card and the data; the card check after the data is a no-op
