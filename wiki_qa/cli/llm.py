"""`wiki-qa serve-llm`: run the bundled local model until Ctrl-C. `wiki-qa llm-batches`: the Batch API jobs
recorded in the LLM cache, and cancelling the unfinished ones."""
from __future__ import annotations

import time


def register(subparsers) -> None:
    p = subparsers.add_parser("serve-llm", help="serve the bundled Gemma 3 270M (base model) on 127.0.0.1, "
                                                "OpenAI-compatible")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--parallel", type=int, default=4, help="parallel slots (default 4)")
    p.set_defaults(func=handler)

    b = subparsers.add_parser("llm-batches", help="list the Batch API jobs in the LLM cache (llm.batch); "
                                                  "--cancel the unfinished ones")
    b.add_argument("--cache", help="the cache database (default: $WIKI_QA_CACHE/llm.sqlite)")
    b.add_argument("--cancel", action="store_true", help="cancel every job not yet collected")
    b.add_argument("--api-key-env", default="OPENAI_API_KEY", help="env var holding the key (default OPENAI_API_KEY)")
    b.set_defaults(func=batches_handler)


def handler(args) -> int:
    from wiki_qa.llm import local_server

    server = local_server.start(args.port, args.parallel)
    print(f"serving {local_server.MODEL_ALIAS} at {server.listening_address}/v1 (base model: test structure, "
          "not quality). Ctrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def batches_handler(args) -> int:
    import os

    from wiki_qa.llm import batch
    from wiki_qa.paths import cache_dir

    path = args.cache or cache_dir("llm.sqlite")
    if not os.path.exists(path):
        print(f"no LLM cache at {path}")
        return 0
    if args.cancel:
        for line in batch.cancel(path, os.environ.get(args.api_key_env)):
            print(line)
        return 0
    rows = batch.jobs(path)
    if not rows:
        print(f"no batch jobs in {path}")
    for j in rows:
        state = "collected" if j["collected"] else "live"
        cost = f"${j['cost']:.4f}" if j["cost"] is not None else "-"
        print(f"{j['batch_id'] or '(not created)'}  {j['status']:<11} {state:<9} {j['n']:>6} requests  "
              f"ok {j['ok'] if j['ok'] is not None else '-'}  failed {j['failed'] if j['failed'] is not None else '-'}"
              f"  {cost}  {j['endpoint'] or 'api.openai.com'}")
    return 0

