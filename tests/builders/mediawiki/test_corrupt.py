"""Corruption in the middle of a dump is not truncation (issue 15, item 11), and the page size cap.

The inputs are 52 real pages of the English sample with one bad spot in page 2: exit 2 naming the file, the
byte offset and the page; with `source.on_error: skip`, that page alone is skipped and counted."""
from __future__ import annotations

import bz2
import io
import json
import re
import subprocess
import sys
import tracemalloc

import pytest

from wiki_qa.builders.mediawiki.pages import PageReader
from wiki_qa.errors import UserError

from .helpers import all_rows, build

BAD = {
    "invalid-utf8": b"\xff\xfe",
    "nul": b"\x00",
    "char-ref-0": b"&#0;",
    "undefined-entity": b"&nosuchentity;",
    "billion-laughs-dtd": b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;'
                          b'&lol;&lol;&lol;&lol;&lol;">]>&lol2;',
}


def real_pages(mediawiki_dir, n=52) -> tuple[bytes, list[bytes], bytes]:
    xml = bz2.decompress((mediawiki_dir / "enwiki-206pages.xml.bz2").read_bytes())
    head = xml[: xml.index(b"<page>")]
    pages = re.findall(rb"<page>.*?</page>\s*", xml, flags=re.S)[:n]
    return head, pages, b"</mediawiki>\n"


def title(page: bytes) -> str:
    return re.search(rb"<title>(.*?)</title>", page).group(1).decode()


def corrupt(mediawiki_dir, bad: bytes) -> tuple[bytes, int, str, bytes]:
    """(XML with `bad` inside page 2's text, offset of the bad bytes, page 2's title, the XML without page 2)."""
    head, pages, tail = real_pages(mediawiki_dir)
    second = pages[1]
    at = second.index(b">", second.index(b"<text")) + 1 + 40
    broken = second[:at] + bad + second[at:]
    offset = len(head) + len(pages[0]) + at
    return head + pages[0] + broken + b"".join(pages[2:]) + tail, offset, title(second), \
        head + pages[0] + b"".join(pages[2:]) + tail


def texts(dsd):
    return sorted((r["id"], r["text"]) for r in all_rows(dsd))


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_spot_on_page_2_of_52_is_an_error_naming_file_offset_and_page(tmp_path, mediawiki_dir, kind):
    xml, offset, page, _ = corrupt(mediawiki_dir, BAD[kind])
    path = tmp_path / "bad.xml"
    path.write_bytes(xml)
    with pytest.raises(UserError) as err:
        build(tmp_path, path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: corrupt XML at byte ") and f"in page {page!r}" in msg
    found = int(re.search(r"at byte ([\d,]+)", msg).group(1).replace(",", ""))
    assert offset <= found <= offset + 4  # the DTD is reported at its first invalid character
    assert "on_error: skip" in msg and "\n" not in msg
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("kind", sorted(BAD))
def test_on_error_skip_skips_only_the_bad_page(tmp_path, mediawiki_dir, kind):
    xml, offset, page, without = corrupt(mediawiki_dir, BAD[kind])
    (tmp_path / "bad.xml.bz2").write_bytes(bz2.compress(xml))  # compressed: offsets are of the XML
    (tmp_path / "good.xml").write_bytes(without)
    dsd, report = build(tmp_path, tmp_path / "bad.xml.bz2", source={"on_error": "skip"})
    ref, ref_report = build(tmp_path, tmp_path / "good.xml", name="ref")
    assert texts(dsd) == texts(ref)
    src = report["source"]
    assert src["skipped"]["bad_xml"] == 1 and src["truncated"] is False
    assert src["pages_seen"] == 52 == ref_report["source"]["pages_seen"] + 1
    (error,) = src["errors"]
    assert error["page"] == page and offset <= error["offset"] <= offset + 4


def test_two_bad_spots_in_one_read_chunk_are_both_skipped(tmp_path, mediawiki_dir):
    head, pages, tail = real_pages(mediawiki_dir, 10)
    pages[3] = pages[3].replace(b"</title>", b"</title>\x00", 1)
    pages[5] = pages[5].replace(b"<text", b"&bad;<text", 1)
    reader = PageReader(io.BytesIO(head + b"".join(pages) + tail), skip_bad=True)
    reader.read_site()
    items = list(reader)
    assert [type(i).__name__ for i in items].count("BadXML") == 2
    assert [p.title for p in items if hasattr(p, "revision")] == [title(p) for i, p in enumerate(pages)
                                                                  if i not in (3, 5)]


def test_cli_exit_2_on_a_corrupt_dump(tmp_path, mediawiki_dir):
    xml, _, page, _ = corrupt(mediawiki_dir, b"\x00")
    path = tmp_path / "bad.xml"
    path.write_bytes(xml)
    p = subprocess.run([sys.executable, "-m", "wiki_qa.cli", "build", "mediawiki", "--set",
                        f"source.path={path}", "--output", tmp_path / "o"], capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert f"{path}: corrupt XML at byte" in p.stderr and page in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_a_dtd_with_entities_in_the_prolog_is_refused(tmp_path, mediawiki_dir):
    head, pages, tail = real_pages(mediawiki_dir, 3)
    dtd = b'<?xml version="1.0"?>\n<!DOCTYPE mediawiki [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
    path = tmp_path / "dtd.xml"
    path.write_bytes(dtd + head + pages[0].replace(b"</title>", b"&lol2;</title>") + b"".join(pages[1:]) + tail)
    with pytest.raises(UserError, match=r"dtd.xml: declares XML entities"):
        build(tmp_path, path)


def test_truncation_at_the_end_is_still_a_warning(tmp_path, mediawiki_dir):
    head, pages, _ = real_pages(mediawiki_dir)
    path = tmp_path / "cut.xml"
    path.write_bytes(head + b"".join(pages) + pages[0][:300])
    dsd, report = build(tmp_path, path, source={"on_error": "skip"})
    assert report["source"]["truncated"] is True and report["source"]["pages_seen"] == 52
    assert "bad_xml" not in report["source"]["skipped"]


def test_an_unclosed_comment_mid_file_is_corruption_not_truncation(tmp_path, mediawiki_dir):
    # "<!--" opens a comment that runs to the end of the file: expat only notices at the end, but the error
    # points back at page 2, far from the end.
    xml, _, page, _ = corrupt(mediawiki_dir, b"<!--")
    path = tmp_path / "bad.xml"
    path.write_bytes(xml)
    with pytest.raises(UserError, match=f"corrupt XML at byte .* in page {re.escape(repr(page))}"):
        build(tmp_path, path)


@pytest.mark.slow  # make test-fast leaves it out
def test_pages_over_max_page_bytes_are_skipped_and_counted(tmp_path, mediawiki_dir):
    import html

    _, pages, _ = real_pages(mediawiki_dir, 206)
    limit = 60_000

    def size(page):
        return len(html.unescape(re.search(rb"<text[^>]*>(.*?)</text>", page, re.S).group(1).decode()).encode())

    big = {title(p) for p in pages if b"<ns>0</ns>" in p and size(p) > limit}
    dsd, report = build(tmp_path, mediawiki_dir / "enwiki-206pages.xml.bz2", source={"max_page_bytes": limit})
    ref, _ = build(tmp_path, mediawiki_dir / "enwiki-206pages.xml.bz2", name="ref")
    assert 5 < len(big) < 100
    assert {r["title"] for r in all_rows(dsd)} == {r["title"] for r in all_rows(ref)} - big
    assert report["source"]["skipped"]["too_large"] == len(big)
    assert any("max_page_bytes" in w for w in report["source"]["warnings"])


def test_one_huge_page_is_skipped_with_memory_bounded(mediawiki_dir):
    """A 64 MB page under a 1 MB cap: skipped without being held (the 2 GB case of issue 15, scaled)."""
    head, pages, tail = real_pages(mediawiki_dir, 3)

    class Stream(io.RawIOBase):
        def __init__(self):
            filler = b"Lorem ipsum dolor sit amet, [[link]] {{tpl}} &amp; more. " * 1000
            body = iter([head, pages[0], b"<page><title>Huge</title><ns>0</ns><id>99</id><revision><id>1</id>"
                         b"<text bytes=\"67108864\" xml:space=\"preserve\">"] + [filler] * (64 * 2**20 // len(filler))
                        + [b"</text></revision></page>", pages[1], tail])
            self.body = body

        def readable(self):
            return True

        def read(self, n=-1):
            return next(self.body, b"")

    tracemalloc.start()
    reader = PageReader(Stream(), max_page_bytes=2**20)
    reader.read_site()
    got = [(p.title, p.too_large) for p in reader]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == [(title(pages[0]), False), ("Huge", True), (title(pages[1]), False)]
    assert peak < 8 * 2**20, peak


def test_max_page_bytes_is_capped_below_what_arrow_can_hold(tmp_path, mediawiki_dir):
    with pytest.raises(UserError, match="max_page_bytes"):
        build(tmp_path, mediawiki_dir / "enwiki-pear.xml", source={"max_page_bytes": 3 * 2**30})


def test_report_json_names_the_skipped_page(tmp_path, mediawiki_dir):
    xml, _, page, _ = corrupt(mediawiki_dir, b"&#0;")
    (tmp_path / "bad.xml").write_bytes(xml)
    build(tmp_path, tmp_path / "bad.xml", source={"on_error": "skip"})
    report = json.loads((tmp_path / "t" / "build_report.json").read_text())
    assert report["source"]["errors"][0]["page"] == page
