"""The local engine vs the Ray engine on the same config: wall time each, and whether the rows are identical."""
from __future__ import annotations

import os
import time

from wiki_qa.rows import SPLITS


def compare_engines(config_path, *, num_proc: int | None = 2, overrides=None) -> dict:
    """Time the local and the Ray engine on the same config (fresh caches for both, LLM cache included)
    and say whether their outputs are identical. Ray's start-up is timed separately."""
    import tempfile

    from wiki_qa.config import load_config
    from wiki_qa.executor.ray import init
    from wiki_qa.llm.config import LLMConfig
    from wiki_qa.orchestrator import dataset_dict

    base = load_config(config_path, overrides)
    out: dict = {"config": str(config_path), "num_proc": num_proc}
    results = {}
    with tempfile.TemporaryDirectory(prefix="wiki_qa-engines-") as tmp:
        for engine in ("local", "ray"):
            cfg = base.model_copy(update={"engine": engine})
            if cfg.generate is not None:
                cfg.llm = (cfg.llm or LLMConfig()).model_copy(update={"cache": os.path.join(tmp, f"{engine}.sqlite")})
            if engine == "ray":
                t = time.perf_counter()
                init(cfg, num_proc)
                out["ray_init_s"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            dsd, report = dataset_dict(cfg, num_proc=num_proc, cache_dir=os.path.join(tmp, engine), refresh=True,
                                       with_report=True)
            out[f"{engine}_s"] = round(time.perf_counter() - t, 3)
            out[f"{engine}_timings_s"] = report["timings_s"]
            results[engine] = {s: dsd[s].with_format("arrow")[:] for s in SPLITS}
    out["rows"] = {s: results["local"][s].num_rows for s in SPLITS}
    out["identical"] = all(results["local"][s].equals(results["ray"][s]) for s in SPLITS)
    out["ray_over_local"] = round(out["ray_s"] / out["local_s"], 3) if out["local_s"] else None
    return out
