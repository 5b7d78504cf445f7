"""The expat page reader (builders/mediawiki/pages.py) against mwxml, page by page and revision by revision,
on every real dump in ../shared/data/mediawiki and on re-encoded / recompressed copies of them."""
from __future__ import annotations

import bz2
import gzip
import lzma

import mwxml
import pytest

from wiki_qa.builders.mediawiki.pages import BadXML, PageReader
from wiki_qa.builders.mediawiki.siteinfo import SiteInfo
from wiki_qa.io import open_input

REAL = ["dbpedia-minidump-am.xml.bz2", "dbpedia-minidump-cy.xml.bz2", "dbpedia-minidump-en.xml.bz2",
        "dbpedia-minidump-sw.xml.bz2", "dbpedia-minidump-yo.xml.bz2", "enwiki-206pages.xml.bz2",
        "enwiki-article-and-talk-history.xml", "enwiki-export-0.9-sample.xml.bz2", "enwiki-pear.xml",
        "enwiki-pyrus-history-export-0.3.xml", "enwikivoyage-nottingham-listings.xml", "fandom-macbre.xml.7z",
        "fowiki-2pages.xml.bz2", "ltgwiki-tiny-edgecases.xml", "simplewiki-7pages.xml",
        "viwiki-truncated-no-closing-tag.xml"]


def ours(path):
    with open_input(str(path)) as inp:
        reader = PageReader(inp.stream, revision="all")
        site = reader.read_site()
        pages, error = [], None
        try:
            pages.extend(reader)
        except BadXML as e:
            error = e
        return site, pages, error


def theirs(path):
    with open_input(str(path)) as inp:
        dump = mwxml.Dump.from_file(inp.stream)
        pages, error = [], None
        try:
            for page in dump:
                pages.append((page, list(page)))
        except Exception as e:  # ElementTree's ParseError at a cut-off end
            error = e
        return dump.site_info, pages, error


def compare(path):
    site, pages, error = ours(path)
    their_site, their_pages, their_error = theirs(path)
    assert (site.get("sitename"), site.get("dbname"), site.get("base"), site.get("generator")) == \
        (their_site.name, their_site.dbname, their_site.base, their_site.generator)
    assert [(k, n) for k, _case, n in site["namespaces"]] == \
        [(ns.id, ns.name or "") for ns in their_site.namespaces or []]
    info = SiteInfo.from_fields(site, {})
    assert len(pages) == len(their_pages) > 0
    for page, (their, their_revs) in zip(pages, their_pages):
        if page.namespace is None:  # export-0.3 has no <ns>: mwxml takes it from the title, and cuts it off
            assert info.namespace_of(page.title) == their.namespace and page.title.endswith(their.title)
        else:
            assert (page.namespace, page.title) == (their.namespace, their.title)
        assert (page.id, page.redirect, page.revisions) == (their.id, their.redirect, len(their_revs))
        assert [(r.id, r.timestamp, r.text, r.bytes, r.text_deleted) for r in page.all_revisions] == \
            [(r.id, str(r.timestamp) if r.timestamp else None, r.text, r.bytes, bool(r.deleted.text))
             for r in their_revs]
        assert page.revision in page.all_revisions and not page.too_large
    assert (error is None) == (their_error is None)
    return pages, error


@pytest.mark.parametrize("name", REAL)
def test_same_pages_as_mwxml_on_every_real_dump(mediawiki_dir, name):
    pages, error = compare(mediawiki_dir / name)
    if name.startswith("viwiki"):  # ends after a </page> with no </mediawiki>: a truncation, not corruption
        assert error.at_end and error.title == pages[-1].title and len(pages) == 10
    else:
        assert error is None


def test_every_real_dump_is_covered(mediawiki_dir):
    assert sorted(p.name for p in mediawiki_dir.iterdir() if p.name != "README.md") == sorted(REAL)


@pytest.mark.slow  # make test-fast leaves it out
@pytest.mark.parametrize("variant", ["gz", "xz", "bz2-multistream", "utf-16-le-bom", "utf-16-be-bom",
                                     "utf-16-le-nobom", "utf-8-bom", "cut-mid-page"])
def test_same_pages_as_mwxml_on_recoded_copies(tmp_path, mediawiki_dir, variant):
    xml = bz2.decompress((mediawiki_dir / "enwiki-206pages.xml.bz2").read_bytes())
    if variant == "gz":
        data, name = gzip.compress(xml), "d.xml.gz"
    elif variant == "xz":
        data, name = lzma.compress(xml), "d.xml.xz"
    elif variant == "bz2-multistream":
        cuts = [0] + [i for i in range(len(xml)) if xml.startswith(b"<page>", i)][::7] + [len(xml)]
        data, name = b"".join(bz2.compress(xml[a:b]) for a, b in zip(cuts, cuts[1:])), "d.xml.bz2"
    elif variant.startswith("utf-16") or variant == "utf-8-bom":
        enc = variant.rsplit("-", 1)[0] if "16" in variant else "utf-8"
        bom = {"utf-16-le-bom": b"\xff\xfe", "utf-16-be-bom": b"\xfe\xff", "utf-8-bom": b"\xef\xbb\xbf"}
        text = xml.decode("utf-8")
        decl = '<?xml version="1.0" encoding="%s"?>\n' % ("UTF-16" if "16" in enc else "UTF-8")
        data, name = bom.get(variant, b"") + (decl + text).encode(enc), "d.xml"
    else:
        data, name = xml[: xml.index(b"<title>", len(xml) // 2) + 2000], "d.xml"
    (tmp_path / name).write_bytes(data)
    pages, error = compare(tmp_path / name)
    assert len(pages) == (xml.count(b"</page>") if variant != "cut-mid-page" else data.count(b"</page>"))
    assert (error is not None) == (variant == "cut-mid-page")
    assert error is None or error.at_end


def test_deleted_text_as_mwxml(tmp_path, mediawiki_dir):
    import re

    xml = (mediawiki_dir / "enwiki-article-and-talk-history.xml").read_text(encoding="utf-8")
    xml = re.sub(r"<text[^>]*>.*?</text>", '<text bytes="1234" deleted="deleted" />', xml, count=2, flags=re.S)
    (tmp_path / "d.xml").write_text(xml, encoding="utf-8")
    pages, _ = compare(tmp_path / "d.xml")
    revs = [r for p in pages for r in p.all_revisions]
    assert sum(r.text_deleted for r in revs) == 2 and all(r.text is None for r in revs if r.text_deleted)
