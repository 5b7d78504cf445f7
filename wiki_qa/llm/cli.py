"""`wiki-qa serve-llm`: run the bundled local model until Ctrl-C."""
from __future__ import annotations

import time


def register(subparsers) -> None:
    p = subparsers.add_parser("serve-llm", help="serve the bundled Gemma 3 270M (base model) on 127.0.0.1, "
                                                "OpenAI-compatible")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--parallel", type=int, default=4, help="parallel slots (default 4)")
    p.set_defaults(func=handler)


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
