"""The CLI: --set/--limit/--output, inspect, exit code 2 with one line, atomic output."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "wiki_qa.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env)


@pytest.mark.slow  # make test-fast leaves it out
def test_build_with_set_limit_output(tmp_path, mediawiki_dir):
    out = tmp_path / "x"
    p = cli("build", "mediawiki", "--set", f"source.path={mediawiki_dir / 'enwiki-206pages.xml.bz2'}",
            "--set", "chunk.max_tokens=512", "--limit", "20", "--output", out)
    assert p.returncode == 0, p.stderr
    report = json.loads((out / "build_report.json").read_text())
    assert report["source"]["documents"] == 20
    assert report["config"]["chunk"]["max_tokens"] == 512
    assert (out / "README.md").exists() and (out / "dataset_dict.json").exists()


def test_inspect(mediawiki_dir):
    p = cli("inspect", mediawiki_dir / "viwiki-truncated-no-closing-tag.xml")
    assert p.returncode == 0, p.stderr
    assert "export-0.10" in p.stdout and "TRUNCATED" in p.stdout and "(3 redirects)" in p.stdout
    p = cli("inspect", "--json", mediawiki_dir / "fandom-macbre.xml.7z")
    info = json.loads(p.stdout)
    assert info["namespaces"]["1200"] == "Tablica wiadomości" and info["lang"] == "pl"


@pytest.mark.parametrize("args,message", [
    (["build", "nosuchconfig"], "nosuchconfig: no such config"),
    (["build", "demo-text", "--set", "chunk.max_tokenz=5"],
     "unknown key 'chunk.max_tokenz' (did you mean 'chunk.max_tokens'?)"),
    (["build", "demo-text", "--set", "source.path=/nope/dump.xml.bz2"], "/nope/dump.xml.bz2: no such file"),
    (["build", "demo-text", "--set", "split.train=0.5"], "split ratios must be >= 0 and sum to 1"),
    (["build", "demo-text", "--set", "source.type=gopher"], "source.type: must be one of mediawiki"),
    (["build", "demo-text", "--set", "source.namespaces=[Nope]"], "'Nope' is not a namespace of this wiki"),
    (["build", "demo-text", "--set", "format=messages"], "format 'messages' needs prompt/completion rows"),
    (["inspect", "/nope.xml"], "/nope.xml: no such file"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    p = cli(*args, "--output", tmp_path / "o") if args[0] == "build" else cli(*args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


def test_bad_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsource: {type: mediawiki, path: [unclosed\n")
    p = cli("build", bad)
    assert p.returncode == 2 and f"{bad}: line" in p.stderr and "invalid YAML" in p.stderr


@pytest.mark.slow  # make test-fast leaves it out
def test_env_interpolation_and_dotenv(tmp_path, mediawiki_dir):
    (tmp_path / ".env").write_text(f"WIKI_QA_DUMP={mediawiki_dir / 'enwiki-pear.xml'}\n")
    p = cli("build", "mediawiki", "--output", tmp_path / "o", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "o" / "build_report.json").read_text())
    assert report["config"]["source"]["path"] == "***"  # interpolated values never echo


def test_dead_build_leaves_no_complete_looking_output(tmp_path, mediawiki_dir):
    out = tmp_path / "o"
    code = (
        "import sys, datasets\n"
        "def boom(self, *a, **k): raise RuntimeError('disk full')\n"
        "datasets.Dataset.save_to_disk = boom\n"
        "from wiki_qa.cli import main\n"
        f"sys.exit(main(['build', 'demo-text', '--output', {str(out)!r}]))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 1 and "disk full" in p.stderr and "--debug" in p.stderr
    assert not out.exists()
    assert not [x for x in tmp_path.iterdir() if x.name.startswith(".o.tmp")]


def test_inspect_a_corrupt_dump_exits_2_naming_offset_and_page(tmp_path, mediawiki_dir):
    xml = (mediawiki_dir / "simplewiki-7pages.xml").read_bytes()
    at = xml.index(b"<text", xml.index(b"<title>August</title>")) + 200
    bad = tmp_path / "bad.xml"
    bad.write_bytes(xml[:at] + b"&#0;" + xml[at:])
    p = cli("inspect", bad)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert f"{bad}: corrupt XML at byte {at:,}, in page 'August'" in p.stderr
