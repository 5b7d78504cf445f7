"""Inputs: compressions, encodings, URLs, globs, and the one-line errors for inputs that can't be used."""
from __future__ import annotations

import bz2
import functools
import gzip
import http.server
import lzma
import re
import threading

import pytest

from wiki_qa.errors import UserError

from .helpers import all_rows, build

SIMPLE = "simplewiki-7pages.xml"


def texts(dsd):
    return sorted((r["id"], r["text"]) for r in all_rows(dsd))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, mediawiki_dir):
    dsd, _ = build(tmp_path_factory.mktemp("ref"), mediawiki_dir / SIMPLE)
    return texts(dsd)


@pytest.mark.parametrize("ext,compress", [(".xml.gz", gzip.compress), (".xml.xz", lzma.compress),
                                          (".xml.bz2", bz2.compress)])
def test_compressions_give_the_same_documents(tmp_path, mediawiki_dir, reference, ext, compress):
    path = tmp_path / f"dump{ext}"
    path.write_bytes(compress((mediawiki_dir / SIMPLE).read_bytes()))
    dsd, report = build(tmp_path, path)
    assert texts(dsd) == reference


def test_multistream_bz2(tmp_path, mediawiki_dir, reference):
    # Wikimedia's multistream dumps are many bz2 streams back to back (header, 100 pages each, footer).
    xml = (mediawiki_dir / SIMPLE).read_text(encoding="utf-8")
    head, rest = xml.split("<page>", 1)
    pages = ["<page>" + p for p in rest.split("<page>")]
    tail = pages[-1].split("</page>", 1)
    pages[-1], footer = tail[0] + "</page>", tail[1]
    streams = [head] + ["".join(pages[i:i + 2]) for i in range(0, len(pages), 2)] + [footer]
    path = tmp_path / "multi.xml.bz2"
    path.write_bytes(b"".join(bz2.compress(s.encode("utf-8")) for s in streams))
    dsd, _ = build(tmp_path, path)
    assert texts(dsd) == reference


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                          ("utf-16-le", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_utf16_and_bom_follow_the_xml_declaration(tmp_path, mediawiki_dir, encoding, bom):
    xml = (mediawiki_dir / "ltgwiki-tiny-edgecases.xml").read_text(encoding="utf-8")
    decl = '<?xml version="1.0" encoding="%s"?>\n' % ("UTF-16" if "16" in encoding else "UTF-8")
    path = tmp_path / "dump.xml"
    path.write_bytes(bom + (decl + xml).encode(encoding))
    dsd, report = build(tmp_path, path, chunk={"min_words": 1})
    ref, _ = build(tmp_path, mediawiki_dir / "ltgwiki-tiny-edgecases.xml", name="ref", chunk={"min_words": 1})
    assert texts(dsd) == texts(ref)
    assert any("Bodmin" in t for _, t in texts(dsd))


def test_export_011_special_export(tmp_path):
    from wiki_qa.config import configs_dir

    dsd, report = build(tmp_path, configs_dir() / "data" / "demowiki.xml")
    assert report["source"]["files"][0]["schema"] == "0.11"
    assert report["source"]["skipped"] == {"namespace": 3, "redirect": 2}


def test_https_url_and_glob(tmp_path, mediawiki_dir, reference):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mediawiki_dir))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{SIMPLE}"
        dsd, report = build(tmp_path, url)
        assert texts(dsd) == reference
        assert report["source"]["files"][0]["path"] == url
    finally:
        server.shutdown()
    dsd, report = build(tmp_path, str(mediawiki_dir / "dbpedia-minidump-*.xml.bz2"), name="glob")
    assert len(report["source"]["files"]) == 5
    assert report["source"]["documents"] == 28


@pytest.mark.slow  # make test-fast leaves it out
def test_dump_cut_off_mid_page_keeps_complete_pages(tmp_path, mediawiki_dir):
    xml = (mediawiki_dir / "enwiki-206pages.xml.bz2").read_bytes()
    data = bz2.decompress(xml)
    cut = data.index(b"<title>", len(data) // 2) + 2000  # inside a page's text
    path = tmp_path / "cut.xml.bz2"
    path.write_bytes(bz2.compress(data[:cut]))
    complete = data[:cut].count(b"</page>")
    dsd, report = build(tmp_path, path)
    assert report["source"]["truncated"] is True
    assert report["source"]["pages_seen"] == complete
    # a bz2 stream cut short (no end-of-stream marker) is the same case
    path2 = tmp_path / "cut2.xml.bz2"
    path2.write_bytes(xml[: len(xml) // 2])
    dsd2, report2 = build(tmp_path, path2, name="cut2")
    assert report2["source"]["truncated"] is True and report2["source"]["pages_seen"] > 10


def test_stub_dump_is_a_clear_error(tmp_path, mediawiki_dir):
    xml = (mediawiki_dir / SIMPLE).read_text(encoding="utf-8")
    stub = re.sub(r'<text([^>]*)>.*?</text>', r'<text\1 />', xml, flags=re.S)
    stub = re.sub(r'<text xml:space="preserve" />', '<text bytes="1234" id="77" />', stub)
    path = tmp_path / "stub.xml"
    path.write_text(stub, encoding="utf-8")
    with pytest.raises(UserError, match=r"stub.xml: is a stub dump: revisions carry no text"):
        build(tmp_path, path)


@pytest.mark.parametrize("name,content,message", [
    ("missing.xml", None, r"missing.xml: no such file"),
    ("page.xml", b"<html><body>hi</body></html>", r"page.xml: is XML but not a MediaWiki export \(root element <html>"),
    ("notes.xml", b"just some notes\n", r"notes.xml: is not XML"),
    ("empty.xml", b"", r"empty.xml: is empty"),
    ("wrong.xml.bz2", gzip.compress(b"<mediawiki></mediawiki>", mtime=0), r"wrong.xml.bz2: named .bz2 but contains gzip"),
    ("plain.xml.gz", b"<mediawiki></mediawiki>", r"plain.xml.gz: named .gz but contains uncompressed data"),
])
def test_bad_inputs_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message) as err:
        build(tmp_path, path)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "t").exists()


def test_export_without_siteinfo_builds_with_canonical_names_and_a_warning(tmp_path, mediawiki_dir, reference):
    xml = (mediawiki_dir / SIMPLE).read_text(encoding="utf-8")
    bare = re.sub(r"\s*<siteinfo>.*?</siteinfo>", "", xml, flags=re.S)
    assert "<siteinfo>" not in bare
    path = tmp_path / "bare.xml"
    path.write_text(bare, encoding="utf-8")
    dsd, report = build(tmp_path, path)
    # the same pages and text; only what came from <siteinfo> (dbname in doc_ids, URLs) is missing
    assert sorted(t for _, t in texts(dsd)) == sorted(t for _, t in reference)
    assert {r["doc_id"].split(":")[0] for r in all_rows(dsd)} == {"wiki"}
    assert any("has no <siteinfo>" in w for w in report["source"]["warnings"])
    # canonical English names work for namespace selection; "Wikipedia" (the local name of 4) does not
    dsd2, report2 = build(tmp_path, path, name="proj", source={"namespaces": ["Project"]}, chunk={"min_words": 1})
    assert report2["source"]["documents"] == 1
    from wiki_qa.builders.mediawiki.inspect import inspect_dump, render

    info = inspect_dump(str(path))
    assert info["siteinfo"] is False and info["pages"] == 7 and "no <siteinfo>" in render(info)
