"""The shipped configs for these sources validate, and their source sections build working sources."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from wiki_qa.builders.bbc.config import BBCConfig
from wiki_qa.builders.bbc.source import BBCSource
from wiki_qa.builders.mmlu.config import MMLUConfig
from wiki_qa.builders.mmlu.source import MMLUSource
from wiki_qa.builders.open_instruct.config import OpenInstructConfig
from wiki_qa.builders.open_instruct.source import OpenInstructSource
from wiki_qa.builders.text.config import TextConfig
from wiki_qa.builders.text.source import TextSource

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SOURCES = {"bbc": (BBCConfig, BBCSource), "mmlu": (MMLUConfig, MMLUSource),
           "open_instruct": (OpenInstructConfig, OpenInstructSource), "text": (TextConfig, TextSource)}
FILES = ["bbc-yoruba-qa.yaml", "mmlu-completion.yaml", "open-instruct-completion.yaml", "text-paraphrase.yaml"]


def _source_section(name: str, **overrides) -> dict:
    tree = yaml.safe_load((CONFIGS / name).read_text())
    src = {k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v) if isinstance(v, str) else v for k, v in tree["source"].items()}
    src.update(overrides)
    return src


@pytest.mark.parametrize("name", FILES)
def test_source_sections_validate(name):
    src = _source_section(name)
    model, _ = SOURCES[src["type"]]
    cfg = model(**src)
    assert cfg.type == src["type"]


def test_configs_run_on_real_data_with_path_override(data_dir, read_all):
    mmlu = MMLUSource(MMLUConfig(**_source_section("mmlu-completion.yaml", path=str(data_dir / "mmlu"))))
    assert len(read_all(mmlu)[0]) == 1542
    oi = OpenInstructSource(OpenInstructConfig(**_source_section(
        "open-instruct-completion.yaml", path=str(data_dir / "instruct/alpaca_5000.json"))))
    assert len(read_all(oi)[0]) > 4990
    saved = str(data_dir / "bbc/world-service-json-2019/yoruba")
    bbc = BBCSource(BBCConfig(**_source_section("bbc-yoruba-qa.yaml", html_dir=saved)))
    rows, _ = read_all(bbc)
    assert [r["doc_id"] for r in rows] == ["bbc:/yoruba/media-23256797"] and rows[0]["lang"] == "yo"


def test_full_build_config_when_registered(data_dir):
    """Through wiki_qa.config and the source registry."""
    import wiki_qa.builders as registry

    if not set(SOURCES) <= set(getattr(registry, "SOURCE_MODELS", {})):
        pytest.skip("sources not registered in wiki_qa.builders yet")
    from wiki_qa.config import load_config

    cfg = load_config(str(CONFIGS / "mmlu-completion.yaml"), [f"source.path={data_dir / 'mmlu'}"])
    assert cfg.source.type == "mmlu" and registry.make_source(cfg.source).shards()
