"""Preference builds against the fake OpenAI server (tests/llm's fixtures), on real instruction data: Alpaca
records from ../shared/data, as an open_instruct source (prompt = instruction, completion = output)."""
from __future__ import annotations

import json

import pytest

from tests.llm.conftest import fake, fake_server_session, llm  # noqa: F401  (fixtures)
from wiki_qa.config import from_dict


def alpaca_pairs(data_dir, n: int) -> list[dict]:
    """n real Alpaca records without an input whose output is one paragraph and about as long as the
    instruction: the fake server's answer to a request echoes it, so its length fits the pair checks' band."""
    recs = json.loads((data_dir / "instruct" / "alpaca_5000.json").read_text())
    out = []
    for r in recs:
        ins, outp = r["instruction"].split(), r["output"].split()
        if not r["input"] and "\n" not in r["output"] + r["instruction"] and len(outp) >= 8 \
                and 1.0 <= (len(ins) + 1) / len(outp) <= 2.2 and "#" not in r["output"] + r["instruction"]:
            out.append({"prompt": r["instruction"], "answer": r["output"]})
        if len(out) == n:
            return out
    raise AssertionError(f"only {len(out)} usable records")


def write_jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def pref_config(tmp_path, llm_settings, path, preference, fmt="preference", **more):
    tree = {"name": "pref", "source": {"type": "open_instruct", "path": path, "preset": "prompt_answer"},
            "llm": dict(llm_settings, cache=str(tmp_path / "llm.sqlite")), "preference": preference, "format": fmt,
            "split": {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 1},
            "output": {"dir": str(tmp_path / "out")}, **more}
    return from_dict(tree)


@pytest.fixture(scope="session")
def alpaca(data_dir):
    return alpaca_pairs(data_dir, 60)
