"""`wiki-qa report DIR`: files, contents, escaping, the card link, and CLI errors."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import datasets
import pytest

from wiki_qa.cli import main
from wiki_qa.publish.card import MAIN_PLOT, render_card
from wiki_qa.viz import write_page
from wiki_qa.viz.page import rejection_reasons, stage_timings

PLOTS = ("lengths.svg", "documents.svg", "rejections.svg", "stages.svg")


def _parse_svg(path):
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # well-formed XML, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def test_report_on_demo_build(demo_build):
    index = write_page(demo_build)
    assert index == demo_build / "report" / "index.html"
    for name in PLOTS:
        root = _parse_svg(demo_build / "report" / name)
        assert len(root.findall(".//{http://www.w3.org/2000/svg}rect")) > 3, name
    page = index.read_text()
    for src in PLOTS:
        assert f'src="{src}"' in page
    assert "Token lengths per split and field" in page and "Sample rows" in page
    assert "<td>namespace</td><td>3</td>" in page and "<td>redirect</td><td>2</td>" in page
    assert "No LLM step" in page
    # every split's sample is there
    for split in ("train", "val", "test"):
        assert f"<h3>{split} (" in page
    # the card now shows the main plot, with a relative link
    card = (demo_build / "README.md").read_text()
    assert f"]({MAIN_PLOT})" in card and card.count(MAIN_PLOT) == 1
    write_page(demo_build)  # idempotent: the card link is not added twice
    assert (demo_build / "README.md").read_text().count(MAIN_PLOT) == 1


def test_card_links_plot_only_when_present(tmp_path):
    report = {"name": "x", "splits": {"train": 1}, "config": {"source": {"type": "text"}}}
    assert MAIN_PLOT not in render_card(report, "name: x", tmp_path)
    (tmp_path / "report").mkdir()
    (tmp_path / MAIN_PLOT).write_text("<svg/>")
    assert f"![Token lengths per split]({MAIN_PLOT})" in render_card(report, "name: x", tmp_path)


def _messages_build(tmp_path):
    """A hand-made build: messages format, hostile text, and every report section the build can write."""
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    rows = [{"id": f"d:{i}#0/qa/0", "doc_id": f"d:{i % 3}", "chunk_id": 0, "title": f"T{i % 3} {evil}",
             "messages": [{"role": "user", "content": f"Q{i} {evil}"}, {"role": "assistant", "content": "A" * 900}],
             "source": "s", "url": "", "lang": "en", "meta": "{}"} for i in range(12)]
    dsd = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:8]),
                                "val": datasets.Dataset.from_list(rows[8:10]),
                                "test": datasets.Dataset.from_list(rows[10:])})
    out = tmp_path / "b"
    dsd.save_to_disk(str(out))
    report = {"name": f"evil {evil}", "splits": {"train": 8, "val": 2, "test": 2},
              "source": {"skipped": {"redirect": 4}, "documents": 3},
              "dropped": {"short_chunk": 2},
              "dedup": {"exact": 3, "near": 1}, "dedup_generated": {"exact": 1, "near": 0},
              "decontaminate": {"removed": 2},
              "llm": {"requests": 10, "cost_usd": 0.0123, "prompt_tokens": 1000, "completion_tokens": 500,
                      "outcomes": {"ok": 9, "failed": 1}, "failures": {"unparseable_json": 1},
                      "dropped_items": {"not_grounded": 5}, "rate_limited": 7,
                      "limit_wait_s": {"tpm": 12.5}, "batch": {"jobs": 2, "cost_usd": 0.006}},
              "timings_s": {"read": 0.1, "clean": 0.2, "chunk": 0.1, "stages": 0.5, "generate": 3.0,
                            "format": 0.1, "write": 0.1, "total": 3.9}}
    (out / "build_report.json").write_text(json.dumps(report))
    return out, evil


def test_report_escapes_rows_and_shows_every_section(tmp_path):
    out, evil = _messages_build(tmp_path)
    page = write_page(out, sample=3).read_text()
    assert "<script>" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "(+" in page  # long answers are cut
    assert "<td>messages</td>" in page  # token stats for the messages field
    assert "$0.0123" in page and "<td>unparseable_json</td>" not in page  # grouped labels
    assert "<td>waited on limit: tpm (s)</td><td>12.5</td>" in page and "<td>rate_limited</td><td>7</td>" in page
    assert "<td>batch: jobs</td><td>2</td>" in page
    reasons = dict(((g, r), n) for g, r, n in rejection_reasons(json.loads((out / "build_report.json").read_text())))
    assert reasons == {("source", "redirect"): 4, ("stages", "short_chunk"): 2, ("dedup", "exact duplicate"): 3,
                       ("dedup", "near duplicate"): 1, ("dedup", "exact duplicate (generated)"): 1,
                       ("decontaminate", "overlaps an eval set"): 2,
                       ("generation", "chunk failed: unparseable_json"): 1,
                       ("generation", "item dropped: not_grounded"): 5}
    assert [s for s, _, k in stage_timings({"timings_s": {"stages": 1, "generate": 2, "read": 0.5, "total": 4}})] \
        == ["stages", "generate", "read"]


def test_report_without_build_report(tmp_path):
    out, _ = _messages_build(tmp_path)
    (out / "build_report.json").unlink()
    page = write_page(out).read_text()
    assert "No build_report.json" in page and "No timings recorded" in page


def test_cli_report(demo_build, capsys):
    assert main(["report", str(demo_build), "--sample", "2"]) == 0
    assert "index.html" in capsys.readouterr().out


@pytest.mark.parametrize("make", ["missing", "not_a_build", "bad_json"])
def test_cli_report_bad_dir_is_one_line_exit_2(tmp_path, capsys, make, demo_build):
    if make == "missing":
        target = tmp_path / "nope"
    elif make == "not_a_build":
        target = tmp_path / "plain"
        target.mkdir()
        (target / "x.txt").write_text("hi")
    else:
        import shutil

        target = tmp_path / "copy"
        shutil.copytree(demo_build, target)
        (target / "build_report.json").write_text("{not json")
    assert main(["report", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wiki-qa: error: ") and str(target) in err and "\n" not in err


def test_report_inside_a_build_temp_folder(demo_build, tmp_path):
    """How the build calls it: on `.NAME.tmp-PID` before the card and the rename (update_card=False)."""
    import shutil

    tmp = tmp_path / ".final.tmp-123"
    shutil.copytree(demo_build, tmp, ignore=shutil.ignore_patterns("report"))
    card_before = (tmp / "README.md").read_text()
    page = write_page(tmp, update_card=False).read_text()
    assert (tmp / "README.md").read_text() == card_before
    assert "<code>final</code>" in page and ".tmp-123" not in page and str(tmp_path) not in page
    assert (tmp / MAIN_PLOT).exists()


def test_token_lengths_come_from_the_chunker_and_equal_tiktokens_counts(demo_build):
    """A text build's page counts nothing again: the chunker's sizes (build_report.json chunk_lengths) are
    the rows' tiktoken counts, split by split; a build whose steps dropped chunks is counted instead."""
    from wiki_qa.tokens import get_encoding
    from wiki_qa.viz.page import chunker_lengths, load_build, token_lengths

    splits, report = load_build(demo_build)
    known = chunker_lengths(splits, report)
    assert known is not None and report["chunk_lengths"]["unit"] == "tokens (cl100k_base)"
    enc = get_encoding("cl100k_base")
    for split, ds in splits.items():
        counted: dict[int, int] = {}
        for text in ds["text"]:
            n = len(enc.encode_ordinary(text))
            counted[n] = counted.get(n, 0) + 1
        assert known[split] == counted, split
    fewer = dict(report, splits={**report["splits"]})
    fewer["chunk_lengths"] = {**report["chunk_lengths"], "by_split": {
        **report["chunk_lengths"]["by_split"], "train": {"5": 1}}}  # as if dedup had dropped train rows
    assert chunker_lengths(splits, fewer) is None
    lengths, sampled = token_lengths(splits, fewer, max_rows=5_000)
    assert lengths["text"] == known and not any(sampled.values())  # counted: the same figures


def test_every_llm_pass_shows_its_waits_and_batches(tmp_path):
    out, _ = _messages_build(tmp_path)
    report = json.loads((out / "build_report.json").read_text())
    report["judge"] = {"model": "m", "llm": {"requests": 4, "rate_limited": 0, "limit_wait_s": {}}}
    (out / "build_report.json").write_text(json.dumps(report))
    page = write_page(out).read_text()
    assert "LLM step: rate limits" in page and "LLM step: Batch API jobs" in page
    assert "<td>batch: cost_usd</td><td>0.006</td>" in page
    assert "Judge: rate limits" in page and "<td>rate_limited</td><td>0</td>" in page
    assert "Judge: no Batch API jobs" in page


def test_an_old_builds_card_links_the_new_plot(demo_build, tmp_path):
    """A build from before the SVG plots: its card linked report/lengths.png, which the report now replaces."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(demo_build, old)
    card = (old / "README.md").read_text()
    (old / "README.md").write_text(card.replace(MAIN_PLOT, "report/lengths.png"))
    write_page(old)
    card = (old / "README.md").read_text()
    assert "lengths.png" not in card and card.count(MAIN_PLOT) == 1 and (old / MAIN_PLOT).exists()
