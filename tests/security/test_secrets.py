"""Issue 15, findings 5 and 6: credentials never reach stderr (errors, warnings, log lines, --debug
tracebacks) nor published files, whatever carries them. Each case runs the real CLI in a subprocess against
a local server: the logging OpenAI stub, a local HTTP site, moto-free S3 endpoints, the test Hub."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.publish.conftest import make_build, run_py
from tests.security.openai_stub import OpenAIStub
from wiki_qa.secrets import MASK, redact, register_secret

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "data" / "demowiki.xml"
OPEN_INSTRUCT = ROOT / "configs" / "data" / "demo-instructions.jsonl"


def cli(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "S3_", "AWS_", "HF_TOKEN"))}
    full.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run([sys.executable, "-m", "wiki_qa.cli", *map(str, args)], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300)


def write_config(folder: Path, **sections) -> Path:
    import yaml

    tree = {"name": "leak-test", "source": {"type": "mediawiki", "path": str(DEMO)}, "format": "text",
            "limit": 3, **sections}
    path = folder / "leak.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


@pytest.fixture
def site(tmp_path):
    """A local HTTP site serving the demo wiki."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "demowiki.xml").write_bytes(DEMO.read_bytes())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(folder)))
    httpd.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_llm_base_url_credentials_and_env_key_stay_out_of_errors_and_debug_logs(tmp_path):
    env = {"OPENAI_API_KEY": "sk-env-SECRET-99"}
    runs = []
    with OpenAIStub(status=401) as stub:
        for n, url in enumerate((f"http://127.0.0.1:{stub.port}/v1?api_key=sk-query-SECRET-77",
                                 f"http://alice:hunter2-pass@127.0.0.1:{stub.port}/v1")):
            cfg = write_config(tmp_path, generate={"task": "qa"}, llm={"model": "fake-model", "base_url": url})
            runs.append(cli("build", cfg, "--output", tmp_path / f"o{n}", cwd=tmp_path, env=env))
            runs.append(cli("--debug", "build", cfg, "--output", tmp_path / f"d{n}", cwd=tmp_path, env=env))
        assert stub.requests, "no request reached the server: the test proves nothing"
    plain, debug = runs[0], runs[1]
    assert plain.returncode == 2 and "refused the credentials" in plain.stderr
    assert f"127.0.0.1:{stub.port}/v1?api_key={MASK}" in plain.stderr
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    # userinfo in base_url: whatever the LLM client makes of it, the password is never printed
    assert all("Traceback" not in p.stderr for p in runs[::2]) and "Traceback" in runs[3].stderr
    for p in runs:
        for secret in ("hunter2-pass", "alice", "sk-query-SECRET-77", "sk-env-SECRET-99"):
            assert secret not in p.stderr + p.stdout, secret


def test_unreachable_endpoint_warning_is_redacted(tmp_path):
    with OpenAIStub(status=200) as good:
        bad = "http://127.0.0.1:9/v1?key=warn-secret-55"  # nothing listens on port 9
        cfg = write_config(tmp_path, generate={"task": "qa"}, llm={
            "model": "fake-model", "endpoints": [{"base_url": good.base_url}, {"base_url": bad}]})
        p = cli("build", cfg, "--output", tmp_path / "o", cwd=tmp_path, env={"OPENAI_API_KEY": "sk-x-123456"})
    warning = [line for line in p.stderr.splitlines() if "starting without it" in line]
    assert warning and warning[0].startswith("WARNING") and f"127.0.0.1:9/v1?key={MASK}" in warning[0]
    assert "warn-secret-55" not in p.stderr


def test_every_log_record_is_redacted_httpx_style(monkeypatch):
    """--debug turns on DEBUG logs of every library (httpx, urllib3, botocore): the CLI's handlers redact."""
    import io
    import logging

    from wiki_qa.secrets import install_log_redaction

    monkeypatch.setenv("HF_TOKEN", "hf_log_secret_1234")
    stream = io.StringIO()
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    monkeypatch.setattr(root, "handlers", [handler])
    install_log_redaction()
    log = logging.getLogger("httpx")
    monkeypatch.setattr(log, "level", logging.DEBUG)
    log.debug('HTTP Request: %s %s "HTTP/1.1 401"', "POST", "http://u:pw-in-url@h/v1?api_key=sk-q-1&x=1")
    log.warning("token %s refused", "hf_log_secret_1234")
    try:
        raise RuntimeError("failed for http://u:pw-in-url@h/")
    except RuntimeError:
        log.exception("with a traceback")
    out = stream.getvalue()
    assert f"http://{MASK}@h/v1?api_key={MASK}&x=1" in out and f"token {MASK} refused" in out
    assert "pw-in-url" not in out and "sk-q-1" not in out and "hf_log_secret_1234" not in out
    assert "Traceback" in out and f"http://{MASK}@h/" in out


def test_dump_url_with_credentials_in_published_files_and_errors(tmp_path, site):
    cfg = tmp_path / "url.yaml"
    cfg.write_text('name: urltest\nsource: {type: mediawiki, path: "${DUMP_URL}"}\nformat: text\n')
    ok = cli("build", cfg, "--output", tmp_path / "out", cwd=tmp_path,
             env={"DUMP_URL": f"http://carol:dump-pass-31@{site}/demowiki.xml"})
    assert ok.returncode == 0, ok.stderr
    published = [tmp_path / "out" / f for f in ("build_report.json", "README.md", "report/index.html")]
    for f in published:
        text = f.read_text()
        assert "dump-pass-31" not in text and "carol" not in text, f
    report = json.loads(published[0].read_text())
    assert report["config"]["source"]["path"] == MASK
    assert report["source"]["files"][0]["path"] == f"http://{MASK}@{site}/demowiki.xml"

    missing = cli("build", cfg, "--output", tmp_path / "o2", cwd=tmp_path,
                  env={"DUMP_URL": f"http://carol:dump-pass-31@{site}/missing.xml"})
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert "dump-pass-31" not in missing.stderr and f"http://{MASK}@{site}/missing.xml" in missing.stderr


def test_s3_endpoint_credentials_stay_out_of_errors(tmp_path):
    build = make_build(tmp_path / "b")
    env = {"S3_ENDPOINT": "http://dave:s3-pass-88@127.0.0.1:9", "S3_ACCESS_KEY_ID": "AKIAEXAMPLE0001",
           "S3_SECRET_ACCESS_KEY": "s3-secret-key-0002", "AWS_EC2_METADATA_DISABLED": "true"}
    p = cli("push", build, "--s3", "s3://bucket-x/b.tar.gz", cwd=tmp_path, env=env)
    assert p.returncode == 2 and "cannot reach the S3 endpoint" in p.stderr
    for secret in ("s3-pass-88", "dave", "AKIAEXAMPLE0001", "s3-secret-key-0002"):
        assert secret not in p.stderr
    p = cli("--debug", "push", build, "--s3", "s3://bucket-x/b.tar.gz", cwd=tmp_path, env=env)
    assert p.returncode == 2 and "Traceback" in p.stderr
    assert "s3-pass-88" not in p.stderr and "s3-secret-key-0002" not in p.stderr


PUSH_CLI = """
import json
from wiki_qa.cli import main
print(json.dumps({{"code": main(["push", {d!r}, "--hub", "org/dotenv-token", "--config-name", "c"])}}))
"""


def test_hub_token_from_dotenv_is_masked_like_one_from_the_environment(hub, tmp_path):
    build = make_build(tmp_path / "b")
    (tmp_path / ".env").write_text("HF_TOKEN=hf_test_write\n")  # run_py runs in tmp_path, no HF_TOKEN env
    # A proxy in front of the Hub that echoes the credential it refused (the finding's push error).
    hub.state.inject("POST", r"/api/datasets/org/dotenv-token/commit/", 422, times=50,
                     message="token hf_test_write may not commit here")
    try:
        r = run_py(PUSH_CLI.format(d=str(build)), hub_url=hub.url, hf_home=tmp_path / "hf", token=None)
    finally:
        hub.state.faults.clear()
    assert r["out"]["code"] == 1 and "may not commit here" in r["stderr"]
    assert "hf_test_write" not in r["stderr"] and f"token {MASK} may not" in r["stderr"]


@pytest.mark.parametrize("text, expected", [
    ("http://sk-live-abcdef123@host:8000/v1", f"http://{MASK}@host:8000/v1"),            # token-only userinfo
    ("https://u:p@ss@host/x", f"https://{MASK}@host/x"),                                # '@' in the password
    ("http://127.0.0.1:80\\@localhost/news", f"http://{MASK}@localhost/news"),           # backslash trick
    ("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F20&X-Amz-Signature=ab12cd",
     f"https://b.s3.amazonaws.com/k?X-Amz-Algorithm={MASK}&X-Amz-Credential={MASK}&X-Amz-Signature={MASK}"),
    ("GET /v1/models?api_key=sk-1&key=k2&token=t3&sig=s4&page=2",
     f"GET /v1/models?api_key={MASK}&key={MASK}&token={MASK}&sig={MASK}&page=2"),
    ("Authorization: Bearer eyJhbGciOi.x.y", f"Authorization: Bearer {MASK}"),
    ("max_tokens=512 and encoding=cl100k_base", "max_tokens=512 and encoding=cl100k_base"),
])
def test_redact_patterns(text, expected):
    assert redact(text) == expected


def test_redact_known_values(monkeypatch, tmp_path):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "value-of-a-token-1")
    monkeypatch.setenv("CUSTOM_LLM_CREDS", "custom-key-value-2")  # a name that does not look secret
    assert redact("got value-of-a-token-1") == f"got {MASK}"
    assert redact("got custom-key-value-2") == "got custom-key-value-2"
    from wiki_qa.config import load_config

    cfg = write_config(tmp_path, generate={"task": "qa"}, llm={"model": "m", "api_key_env": "CUSTOM_LLM_CREDS"})
    load_config(cfg)  # api_key_env names the variable: its value is a secret from now on
    assert redact("got custom-key-value-2") == f"got {MASK}"
    register_secret("short")  # under 6 characters: would mask ordinary words
    assert redact("a short word") == "a short word"


@pytest.mark.parametrize("where, sections", [
    ("judge.llm", {"generate": {"task": "qa"}, "llm": {"model": "m"},
                   "judge": {"llm": {"model": "judge-m", "api_key_env": "{var}"}}}),
    ("llm.endpoints[1]", {"generate": {"task": "qa"},
                          "llm": {"model": "m", "endpoints": [{"base_url": "http://127.0.0.1:9/v1"},
                                                              {"base_url": "http://127.0.0.1:8/v1",
                                                               "api_key_env": "{var}"}]}}),
    ("preference.weaker_model.llm", {"llm": {"model": "m"}, "format": {"type": "preference"},
                                     "preference": {"strategy": "weaker_model",
                                                    "weaker_model": {"llm": {"model": "w", "api_key_env": "{var}"}}}}),
])
def test_a_key_named_in_a_nested_llm_section_is_masked(monkeypatch, tmp_path, where, sections):
    """A judge, a second endpoint or the weaker model may each read their key from a variable of any name:
    once the config names it, its value never reaches a log, report or card."""
    from wiki_qa.config import load_config

    var, value = f"NESTED_{where.split('.')[0].upper()}_CREDS", f"nested-key-for-{where}"
    monkeypatch.setenv(var, value)
    assert redact(f"got {value}") == f"got {value}"  # a name that does not look secret: not masked yet
    tree = json.loads(json.dumps(sections).replace("{var}", var))
    if "preference" in tree:
        tree["source"] = {"type": "open_instruct", "path": str(OPEN_INSTRUCT), "preset": "prompt_answer"}
    load_config(write_config(tmp_path, **tree))
    assert redact(f"got {value}") == f"got {MASK}", where
