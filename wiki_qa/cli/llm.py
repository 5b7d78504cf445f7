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
    b.add_argument("--cancel", action="store_true", help="cancel every job not yet collected that was made with "
                   "the key in --api-key-env (each job is sent only its own key)")
    b.add_argument("--api-key-env", default="OPENAI_API_KEY", help="env var holding the key (default OPENAI_API_KEY)")
    b.set_defaults(func=batches_handler)


def handler(args) -> int:
    from wiki_qa.llm import local_server

    key = local_server.new_key()  # any local user could take the slots of a server without one
    server = local_server.start(args.port, args.parallel, api_key=key)
    print(f"serving {local_server.MODEL_ALIAS} at {server.listening_address}/v1 with the API key {key} "
          "(a small model: test structure, not quality). Ctrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def batches_handler(args) -> int:
    import os

    from wiki_qa.llm import batch
    from wiki_qa.llm.transport import public_url, shown
    from wiki_qa.paths import cache_dir
    from wiki_qa.secrets import redact

    path = args.cache or cache_dir("llm.sqlite")
    if not os.path.exists(path):
        print(f"no LLM cache at {path}")
        return 0
    if args.cancel:  # each job gets only the key it was made with
        for line in batch.cancel(path, args.api_key_env):
            print(line)
        return 0
    rows = batch.jobs(path)
    if not rows:
        print(f"no batch jobs in {path}")
    for j in rows:
        state = "collected" if j["collected"] else "live"
        cost = f"${j['cost']:.4f}" if j["cost"] is not None else "-"
        # what the provider chose (ids, status) is shown without control characters; URLs without credentials
        print(f"{shown(j['batch_id'] or '(not created)', 80)}  {shown(j['status'], 20):<11} {state:<9} "
              f"{j['n']:>6} requests  ok {j['ok'] if j['ok'] is not None else '-'}  "
              f"failed {j['failed'] if j['failed'] is not None else '-'}  {cost}  "
              f"{redact(public_url(j['endpoint']))}  ${j['key_env'] or '?'}")
    return 0

