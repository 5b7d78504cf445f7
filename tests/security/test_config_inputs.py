"""Issue 15, findings 7, 12, 13 and the cache part of 14: what a config can make wiki_qa read, load or send.
Builds run the real CLI in a subprocess against the logging OpenAI stub or the fake OpenAI server."""
from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.security.openai_stub import OpenAIStub
from wiki_qa.config import load_config
from wiki_qa.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "data" / "demowiki.xml"


def cli(*args, cwd: Path, env: dict | None = None, memory_gb: int | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    full.update({"PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-test-key-000", **(env or {})})

    def cap():  # a protection that fails must fail the test, not the machine
        if memory_gb:
            limit = memory_gb << 30
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "wiki_qa.cli", *map(str, args)], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300, preexec_fn=cap)


def config(folder: Path, name: str = "c", **sections) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tree = {"name": "cfg", "source": {"type": "mediawiki", "path": str(DEMO)}, "format": "text", "limit": 3,
            **sections}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(tree))
    return folder / f"{name}.yaml"


# ---- .env (finding 7) ----------------------------------------------------------------------------------
def test_a_dotenv_two_folders_up_is_not_loaded(tmp_path):
    with OpenAIStub(status=401) as attacker, OpenAIStub(status=401) as intended:
        (tmp_path / ".env").write_text(f"OPENAI_BASE_URL={attacker.base_url}\n")
        work = tmp_path / "a" / "b"
        work.mkdir(parents=True)
        cfg = config(tmp_path / "project", generate={"task": "qa"}, llm={"model": "fake-model"})
        (cfg.parent / ".env").write_text(f"OPENAI_BASE_URL={intended.base_url}\n")
        p = cli("build", cfg, "--output", "out", cwd=work)
        assert not attacker.requests  # neither the key nor a prompt went there
        assert intended.requests and intended.received("sk-test-key-000")
    assert p.returncode == 2 and "refused the credentials" in p.stderr


def test_dotenv_precedence_environment_then_working_folder_then_config_folder(tmp_path, monkeypatch):
    for name in ("WQ_A", "WQ_B", "WQ_C", "WQ_UP"):
        monkeypatch.delenv(name, raising=False)  # and removed again after the test
    monkeypatch.setenv("WQ_A", "from-environment")
    (tmp_path / ".env").write_text("WQ_UP=from-a-parent\n")
    work, proj = tmp_path / "work", tmp_path / "proj"
    work.mkdir()
    cfg = config(proj)
    (work / ".env").write_text("WQ_A=cwd\nWQ_B=cwd\n")
    (proj / ".env").write_text("WQ_A=config\nWQ_B=config\nWQ_C=config\n")
    monkeypatch.chdir(work)
    load_config(cfg)
    assert [os.environ.get(n) for n in ("WQ_A", "WQ_B", "WQ_C", "WQ_UP")] == [
        "from-environment", "cwd", "config", None]


# ---- YAML alias bomb (finding 12) ----------------------------------------------------------------------
BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
name: bomb
"""


def test_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    assert len(BOMB) < 500  # ~400 bytes that expand to 9**9 = 387 million strings
    (tmp_path / "bomb.yaml").write_text(BOMB)
    p = cli("build", tmp_path / "bomb.yaml", cwd=tmp_path, memory_gb=2)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "alias bomb" in p.stderr
    assert "bomb.yaml" in p.stderr
    p = cli("build", "demo-text", "--set", "name=[&x [1,2,3,4,5,6,7,8,9], [*x,*x,*x,*x]]", cwd=tmp_path)
    assert p.returncode == 2  # a small alias in --set is only a wrong type, not a refusal


def test_ordinary_anchors_and_merge_keys_still_work(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(f"name: anchors\nx-base: &src {{type: mediawiki, path: {DEMO}}}\n"
                    "source: {<<: *src, namespaces: [0]}\nformat: text\n")
    with pytest.raises(UserError, match="unknown key 'x-base'"):
        load_config(path)  # the anchor expanded fine; only the helper key is not a config key
    path.write_text(f"name: anchors\nsource: &src {{type: mediawiki, path: {DEMO}}}\n"
                    "decontaminate: {enabled: false}\nformat: text\n")
    assert load_config(path).source.path == str(DEMO)


def test_yaml_python_tags_are_refused(tmp_path, monkeypatch):
    """Held before this issue; kept as a regression test: a YAML cannot run code while it is read."""
    monkeypatch.chdir(tmp_path)
    for value in ('!!python/object/apply:os.system ["touch pwned"]', "!!python/name:os.system"):
        (tmp_path / "tag.yaml").write_text(f"name: tag\nsource: {value}\n")
        with pytest.raises(UserError, match="invalid YAML"):
            load_config(tmp_path / "tag.yaml")
        with pytest.raises(UserError, match="invalid YAML"):
            load_config("demo-text", [f"name={value}"])
    assert not (tmp_path / "pwned").exists()


# ---- prompt_file (finding 13) -------------------------------------------------------------------------
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA-FAKE-FOR-TESTS\n"


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text(PRIVATE_KEY)
    return home


def test_prompt_file_outside_the_config_folder_is_never_sent(tmp_path, home, monkeypatch):
    proj = tmp_path / "proj"
    with OpenAIStub(status=200) as server:
        gen, llm = {"task": "qa"}, {"model": "fake-model", "base_url": server.base_url}
        cfg = config(proj, generate={**gen, "prompt_file": "~/.ssh/id_ed25519"}, llm=llm)
        p = cli("build", cfg, "--output", "out", cwd=proj, env={"HOME": str(home)})
        assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
        assert "outside the config's folder" in p.stderr and "allow_any_prompt_file" in p.stderr
        assert not server.requests and PRIVATE_KEY.splitlines()[1] not in p.stderr

        # The same check for an absolute path, a relative one that climbs out, and a symlink inside.
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.chdir(proj)
        (proj / "innocent.txt").symlink_to(home / ".ssh" / "id_ed25519")
        for target in (str(home / ".ssh" / "id_ed25519"), "../home/.ssh/id_ed25519", "innocent.txt"):
            with pytest.raises(UserError, match="outside the config's folder"):
                load_config(config(proj, generate={**gen, "prompt_file": target}, llm=llm))

        # The escape hatch exists, and it is what the check stood between: the file is then sent.
        cfg = config(proj, "allowed", allow_any_prompt_file=True, generate={**gen, "prompt_file": "~/.ssh/id_ed25519"},
                     llm=llm)
        cli("build", cfg, "--output", "out", cwd=proj, env={"HOME": str(home)})
        assert server.received("b3BlbnNzaC1rZXktdjEAAAA-FAKE-FOR-TESTS")


def test_prompt_file_tilde_relative_and_missing(tmp_path, home, monkeypatch):
    monkeypatch.setenv("HOME", str(home))
    proj = home / "proj"
    (proj / "prompts").mkdir(parents=True)
    (proj / "prompts" / "qa.txt").write_text("Ask about {title}: {text}")
    for given in ("~/proj/prompts/qa.txt", "prompts/qa.txt"):
        cfg = load_config(config(proj, generate={"prompt_file": given}, llm={"model": "m"}))
        assert cfg.generate.prompt_file == str(proj / "prompts" / "qa.txt")
    p = cli("build", config(proj, generate={"prompt_file": "prompts/nope.txt"}, llm={"model": "m"}), cwd=proj)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no such file 'prompts/nope.txt'" in p.stderr
    assert "Traceback" not in p.stderr


# ---- a damaged LLM response cache (finding 14) ---------------------------------------------------------
def _truncate(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def test_damaged_cache_is_named_and_refresh_or_repair_moves_it_aside(tmp_path, fake_llm, capsys):
    from wiki_qa.cli import main
    from wiki_qa.llm.cache import Cache

    cache = tmp_path / "cache"
    db = cache / "llm.sqlite"
    env = {"WIKI_QA_CACHE": str(cache)}
    cfg = config(tmp_path / "proj", generate={"task": "qa"}, llm={"model": "fake-model", "base_url": fake_llm.base_url},
                 limit=8)
    filled = Cache(str(db))  # a cache with many pages, as after a long run, then cut in the middle
    for i in range(300):
        filled.put(f"pad{i}", {"body": "x" * 2000})
    filled.db.close()
    _truncate(db)

    p = cli("build", cfg, "--output", "out", cwd=tmp_path, env=env)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and str(db) in p.stderr and "damaged" in p.stderr
    assert "wiki-qa cache repair" in p.stderr and "--refresh" in p.stderr
    p = cli("build", cfg, "--output", "out", "--refresh", cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    assert "moved aside" in p.stderr and [f for f in cache.iterdir() if ".damaged-" in f.name]

    _truncate(db)  # the fresh cache, damaged again: the explicit command
    assert main(["cache", "repair", str(db)]) == 0
    assert "moved aside" in capsys.readouterr().out and not db.exists()
    assert main(["cache", "repair", str(db)]) == 0
    assert capsys.readouterr().out.strip().endswith("nothing to do")
