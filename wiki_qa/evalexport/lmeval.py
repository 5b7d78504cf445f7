"""An lm-evaluation-harness task folder: the task YAMLs, the data files and `wiki_qa_task.py`.

    OUT/NAME.yaml          multiple choice scored by log-likelihood of each option (acc, acc_norm), or
                           generative QA scored by exact match and token F1
    OUT/NAME_gen.yaml      multiple choice answered by generation (exact match of the option named): for
                           servers that give no prompt log-probabilities (chat APIs, llama.cpp's server)
    OUT/wiki_qa_task.py    the loader and scorers (harness_task.py)
    OUT/data/{test,val}.jsonl

`test` is the eval split and `val` gives the few-shot examples. Run it with
`lm_eval --include_path OUT --tasks NAME ...`.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

MODULE = "wiki_qa_task"  # the name harness_task.py gets in the folder
HARNESS_SPLITS = {"test": "test", "val": "validation"}
_METRIC = {"aggregation": "mean", "higher_is_better": True}
# Characters that JSON leaves raw but some line readers (Python's str.splitlines, JavaScript) break lines at:
# escaped, so one item stays one line for every JSONL reader (MMLU's questions hold U+2028).
_LINE_BREAKS = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\u0085\u2028\u2029"})


def _function(name: str) -> str:
    return f"!function {MODULE}.{name}"


def task_configs(name: str, kind: str, style: str | None, has_val: bool, multiline: bool,
                 meta: dict) -> dict[str, dict]:
    """task name -> its YAML mapping (values holding `!function ...` are written as that tag)."""
    base = {"custom_dataset": _function("load"), "test_split": "test",
            **({"fewshot_split": "validation"} if has_val else {}),
            "doc_to_text": "prompt", "target_delimiter": " ", "fewshot_delimiter": "\n\n"}
    version = {"metadata": {"version": 1.0, "wiki_qa": meta}}
    if kind == "qa":
        until = ["\n\n"] if multiline else ["\n"]
        return {name: {"task": name, **base, "output_type": "generate_until", "doc_to_target": "target",
                       "generation_kwargs": {"until": until, "max_gen_toks": 256, "do_sample": False,
                                             "temperature": 0.0},
                       "process_results": _function("score_answer"),
                       "metric_list": [{"metric": "exact_match", **_METRIC}, {"metric": "f1", **_METRIC}],
                       **version}}
    gen_tokens = 8 if style == "letter" else 128
    return {
        name: {"task": name, **base, "output_type": "multiple_choice", "doc_to_choice": "options",
               "doc_to_target": "answer",
               "metric_list": [{"metric": "acc", **_METRIC}, {"metric": "acc_norm", **_METRIC}], **version},
        f"{name}_gen": {"task": f"{name}_gen", **base, "output_type": "generate_until", "doc_to_target": "target",
                        "generation_kwargs": {"until": ["\n"], "max_gen_toks": gen_tokens, "do_sample": False,
                                              "temperature": 0.0},
                        "process_results": _function("score_choice"),
                        "metric_list": [{"metric": "exact_match", **_METRIC}], **version},
    }


class _Dumper(yaml.SafeDumper):
    """Strings with line breaks double-quoted ("\\n\\n"), as people write them in lm-eval's YAMLs."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                             style='"' if "\n" in s else None))


def _yaml(cfg: dict) -> str:
    """YAML text with lm-eval's `!function` tags left unquoted (safe_dump would quote them as strings)."""
    tagged = {k: v for k, v in cfg.items() if isinstance(v, str) and v.startswith("!function ")}
    plain = {k: v for k, v in cfg.items() if k not in tagged}
    text = yaml.dump(plain, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return text + "".join(f"{k}: {v}\n" for k, v in tagged.items())


def write_folder(out: Path, name: str, kind: str, style: str | None, split_items: dict[str, list[dict]],
                 meta: dict) -> list[str]:
    """Write the task folder into `out` (an empty folder); returns the task names."""
    (out / "data").mkdir(parents=True, exist_ok=True)
    for split, rows in split_items.items():
        with (out / "data" / f"{split}.jsonl").open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False).translate(_LINE_BREAKS) + "\n")
    shutil.copyfile(Path(__file__).with_name("harness_task.py"), out / f"{MODULE}.py")
    multiline = any("\n" in a for rows in split_items.values() for r in rows for a in r.get("answers", ()))
    configs = task_configs(name, kind, style, bool(split_items.get("val")), multiline, meta)
    for task, cfg in configs.items():
        (out / f"{task}.yaml").write_text(_yaml(cfg), encoding="utf-8")
    return list(configs)
