"""Byte-range shards of one dump (issue 12): cut in 2, 3 and 7 parts, the real dumps give exactly the
documents (and counts) of one shard, as plain XML and as multistream .bz2 with and without its index."""
from __future__ import annotations

import bz2
import functools
import gzip
import http.server
import os
import re
import threading

import pytest

from wiki_qa.builders.base import SourceStats
from wiki_qa.builders.mediawiki.config import MediaWikiConfig
from wiki_qa.builders.mediawiki.shards import Shard, index_name, parse
from wiki_qa.builders.mediawiki.source import MediaWikiSource
from wiki_qa.io import open_input

# Real dumps with enough pages to be cut 7 ways (ltgwiki repeats one page id on purpose: see
# test_repeated_page_ids_across_shards_are_flagged).
CUTTABLE = ["enwiki-206pages.xml.bz2", "dbpedia-minidump-en.xml.bz2", "simplewiki-7pages.xml",
            "viwiki-truncated-no-closing-tag.xml"]
OTHERS = ["dbpedia-minidump-am.xml.bz2", "enwiki-article-and-talk-history.xml", "enwiki-export-0.9-sample.xml.bz2",
          "enwiki-pear.xml", "fowiki-2pages.xml.bz2", "fandom-macbre.xml.7z"]


def xml_of(path) -> bytes:
    with open_input(str(path)) as inp:
        return inp.stream.read()


def write_multistream(xml: bytes, dest, per: int = 1, index: bool = True) -> None:
    """Wikimedia's layout: a stream for the head, one per `per` pages, one for the tail; and the index
    file beside it ("offset:page_id:title" per page)."""
    starts = [m.start() for m in re.finditer(rb"<page>", xml)]
    head, tail_at = xml[: starts[0]], xml.rindex(b"</page>") + len(b"</page>")
    ends = starts[1:] + [tail_at]
    groups = [(starts[i], ends[min(i + per, len(starts)) - 1]) for i in range(0, len(starts), per)]
    data, lines = bz2.compress(head), []
    for a, b in groups:
        for page in re.findall(rb"<page>.*?</page>", xml[a:b], flags=re.S):
            pid = re.search(rb"<id>(\d+)</id>", page).group(1).decode()
            title = re.search(rb"<title>(.*?)</title>", page).group(1).decode()
            lines.append(f"{len(data)}:{pid}:{title}")
        data += bz2.compress(xml[a:b])
    if xml[tail_at:]:
        data += bz2.compress(xml[tail_at:])
    dest.write_bytes(data)
    if index:
        with open(index_name(str(dest)), "wb") as f:
            f.write(bz2.compress(("\n".join(lines) + "\n").encode("utf-8")))


def source(path, **kw) -> MediaWikiSource:
    return MediaWikiSource(MediaWikiConfig(path=str(path), min_shard_bytes=1, **kw))


def read_all(src: MediaWikiSource, shards: list[str]):
    docs, merged, per_shard = [], SourceStats(), []
    for shard in shards:
        stats = SourceStats()
        docs += list(src.read(shard, stats))
        merged.merge(stats)
        per_shard.append(stats)
    return docs, merged, per_shard


def counts(stats: SourceStats):
    return stats.pages_seen, stats.documents, dict(stats.skipped), stats.truncated


@functools.lru_cache(maxsize=None)
def whole(path: str):
    src = source(path)
    docs, stats, _ = read_all(src, src.shards(1))
    return docs, counts(stats)


def assert_same_as_one_shard(path, parts, expect_parts=True):
    src = source(path)
    shards = src.shards(parallel=parts)
    if expect_parts:  # uneven page sizes can make two cut targets meet at one page
        assert 2 <= len(shards) <= parts and all(not parse(s).whole for s in shards), shards
        assert len(shards) == parts or "enwiki-206" not in str(path)
    docs, stats, per_shard = read_all(src, shards)
    ref_docs, ref_counts = whole(str(path))
    assert docs == ref_docs  # same documents, same doc_ids, same order
    assert counts(stats) == ref_counts
    # a file whose page ids ascend (as Wikimedia's do) cannot repeat one across shards; any other is flagged
    ids = [int(i) for i in re.findall(rb"<page>\s*<title>.*?</title>\s*(?:<ns>\d+</ns>\s*)?<id>(\d+)</id>",
                                      xml_of(path), flags=re.S)]
    ascending = all(a < b for a, b in zip(ids, ids[1:]))
    assert ascending == (not [w for w in stats.warnings if "ascending order" in w]), stats.warnings
    # only the shard holding the end of a cut-off file says "truncated"
    assert [s.truncated for s in per_shard[:-1]] == [False] * (len(shards) - 1)
    return shards


@pytest.mark.parametrize("parts", [2, 3, 7])
@pytest.mark.parametrize("name", CUTTABLE)
def test_plain_xml_cut_at_pages(tmp_path, mediawiki_dir, name, parts):
    path = tmp_path / f"{name}.xml"
    path.write_bytes(xml_of(mediawiki_dir / name))
    shards = assert_same_as_one_shard(path, parts)
    # ranges tile the file: every byte is read exactly once
    ranges = [parse(s) for s in shards]
    assert ranges[0].start == 0 and ranges[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in zip(ranges, ranges[1:]))
    xml = path.read_bytes()
    assert all(xml[r.start:].startswith(b"<page>") for r in ranges[1:])


@pytest.mark.parametrize("parts", [2, 3, 7])
@pytest.mark.parametrize("index", [True, False], ids=["index", "scan"])
@pytest.mark.parametrize("name", CUTTABLE)
def test_multistream_bz2_cut_at_streams(tmp_path, mediawiki_dir, name, index, parts):
    path = tmp_path / f"{name}-20240101-pages-articles-multistream.xml.bz2"
    write_multistream(xml_of(mediawiki_dir / name), path, index=index)
    shards = assert_same_as_one_shard(path, parts)
    streams = {m.start() for m in re.finditer(rb"BZh9", path.read_bytes())}
    assert all(parse(s).start in streams for s in shards)


@pytest.mark.parametrize("name", OTHERS)
def test_small_dumps_cut_as_far_as_they_go(tmp_path, mediawiki_dir, name):
    path = tmp_path / "d.xml"
    path.write_bytes(xml_of(mediawiki_dir / name))
    assert_same_as_one_shard(path, 7, expect_parts=False)
    ms = tmp_path / "d-multistream.xml.bz2"
    write_multistream(xml_of(mediawiki_dir / name), ms)
    assert_same_as_one_shard(ms, 3, expect_parts=False)


def test_index_that_does_not_match_the_dump_falls_back_to_scanning(tmp_path, mediawiki_dir, caplog):
    path = tmp_path / "x-multistream.xml.bz2"  # the index name is x-multistream-index.txt.bz2
    write_multistream(xml_of(mediawiki_dir / "simplewiki-7pages.xml"), path)
    (tmp_path / "x-multistream-index.txt.bz2").write_bytes(bz2.compress(b"5:1:A\n77:2:B\n99999:3:C\n"))
    assert_same_as_one_shard(path, 3)
    assert "index does not match" in caplog.text


@pytest.mark.parametrize("name,data", [
    ("single.xml.bz2", lambda x: bz2.compress(x)),
    ("d.xml.gz", lambda x: gzip.compress(x)),
    ("utf16.xml", lambda x: b"\xff\xfe" + x.decode("utf-8").encode("utf-16-le")),
])
def test_what_cannot_be_cut_stays_whole(tmp_path, mediawiki_dir, name, data):
    path = tmp_path / name
    path.write_bytes(data(xml_of(mediawiki_dir / "enwiki-206pages.xml.bz2")))
    assert source(path).shards(parallel=4) == [str(path)]


def test_http_url_stays_whole_and_part_files_stay_separate(tmp_path, mediawiki_dir):
    xml = xml_of(mediawiki_dir / "simplewiki-7pages.xml")
    (tmp_path / "w.xml").write_bytes(xml)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.handle_error = lambda *a: None  # fsspec closes GETs it only needed the headers of
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/w.xml"
        assert source(url).shards(parallel=4) == [url]
    finally:
        server.shutdown()
    # numbered part files: one shard per file while parallel <= files; each can be cut further
    for i in (1, 2):
        write_multistream(xml, tmp_path / f"w-pages-articles-multistream{i}.xml-p{i}p{i}.bz2")
    src = source(tmp_path / "w-pages-articles-multistream*.xml-p*.bz2")
    assert [parse(s).whole for s in src.shards(parallel=2)] == [True, True]
    assert len(src.shards(parallel=6)) == 6
    assert (tmp_path / "w-pages-articles-multistream-index1.txt-p1p1.bz2").exists()  # found by its name


def test_shards_are_sized_from_the_input_and_the_workers(tmp_path, mediawiki_dir):
    """Default: N workers get N pieces of a file of a few MB (none under 1 MiB); the 64 MiB floor holds
    only once the input gives every worker that much; min_shard_bytes set by hand wins."""
    from wiki_qa.builders.mediawiki import shards

    mib = 1 << 20
    assert shards.auto_min_bytes(100_000 * mib, 64 * 4) == 64 * mib  # full Wikipedia on 64 cores
    assert shards.auto_min_bytes(30 * mib, 2) == 15 * mib and shards.auto_min_bytes(mib, 2) == mib
    path = tmp_path / "d.xml"
    path.write_bytes(xml_of(mediawiki_dir / "enwiki-206pages.xml.bz2"))
    size = path.stat().st_size  # 6.1 MB
    src = MediaWikiSource(MediaWikiConfig(path=str(path)))
    assert src.shards(parallel=1) == [str(path)]
    assert len(src.shards(parallel=2)) == 2 and len(src.shards(parallel=4)) == 4
    assert len(src.shards(parallel=64)) == size // mib  # no piece under 1 MiB
    src = MediaWikiSource(MediaWikiConfig(path=str(path), min_shard_bytes=size + 1))
    assert src.shards(parallel=8) == [str(path)]  # read whole, as a user may ask
    src = MediaWikiSource(MediaWikiConfig(path=str(path), min_shard_bytes=size // 3))
    assert len(src.shards(parallel=8)) == 3


def test_shard_strings_round_trip():
    for s in ["/d/x.xml.bz2", "s3://b/k/x.xml", "/d/odd#name.xml", "/d/x.xml#bytes=0-10"]:
        assert str(parse(s)) == s
    assert parse("/d/x.xml#bytes=5-10") == Shard("/d/x.xml", 5, 10)
    assert parse("/d/odd#name.xml").whole


def test_each_shard_reports_its_range_with_sha256(tmp_path, mediawiki_dir):
    import hashlib

    path = tmp_path / "d.xml"
    path.write_bytes(xml_of(mediawiki_dir / "simplewiki-7pages.xml"))
    src = source(path)
    _, stats, _ = read_all(src, src.shards(parallel=3))
    data = path.read_bytes()
    for f in stats.files:
        r = parse(f["path"])
        assert f["sha256"] == hashlib.sha256(data[r.start:r.end]).hexdigest()
        assert f["bytes"] == r.end - r.start and f["site"] == "simplewiki"


def test_repeated_page_ids_across_shards_are_flagged(tmp_path, mediawiki_dir):
    # ltgwiki's hand-edited export gives seven pages the id 1. Within one shard the repeats get the title
    # appended (as in one read); a repeat in another shard cannot be seen, so each shard warns when its
    # file is cut and it meets a repeat, naming the way out.
    path = tmp_path / "ltg.xml"
    path.write_bytes(xml_of(mediawiki_dir / "ltgwiki-tiny-edgecases.xml"))
    src = source(path)
    docs, stats, _ = read_all(src, src.shards(parallel=3))
    assert len(docs) == whole(str(path))[1][1]
    assert any("min_shard_bytes" in w for w in stats.warnings)


def test_globs_skip_the_index_files_and_an_index_alone_is_a_clear_error(tmp_path, mediawiki_dir):
    from wiki_qa.errors import UserError

    write_multistream(xml_of(mediawiki_dir / "simplewiki-7pages.xml"), tmp_path / "w-multistream.xml.bz2")
    assert source(tmp_path / "w-multistream*.bz2").shards() == [str(tmp_path / "w-multistream.xml.bz2")]
    with pytest.raises(UserError, match="is a multistream index"):
        source(tmp_path / "w-multistream-index.txt.bz2").shards()


def test_s3_dump_is_cut_by_range_requests(tmp_path, mediawiki_dir, monkeypatch):
    """Object stores serve byte ranges: a multistream dump on (moto) S3 is cut like a local one."""
    import boto3
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    s3fs.S3FileSystem.clear_instance_cache()  # a cached client may point at another test's endpoint
    try:
        host, port = server.get_host_and_port()
        for var, value in {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_EC2_METADATA_DISABLED": "true"}.items():
            monkeypatch.setenv(var, value)
        local = tmp_path / "yo-multistream.xml.bz2"
        write_multistream(xml_of(mediawiki_dir / "enwiki-206pages.xml.bz2"), local, per=10)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="dumps")
        for f in tmp_path.iterdir():
            s3.upload_file(str(f), "dumps", f.name)
        url = "s3://dumps/yo-multistream.xml.bz2"
        src = source(url)
        shards = src.shards(parallel=3)
        assert len(shards) == 3 and all(s.startswith(url + "#bytes=") for s in shards)
        docs, stats, _ = read_all(src, shards)
        assert docs == whole(str(local))[0]
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


@pytest.mark.parametrize("kind", ["multistream", "xml"])
def test_build_with_num_proc_2_on_byte_ranges_gives_the_rows_of_one_process(tmp_path, mediawiki_dir, kind):
    """End to end: the executor asks for shards(parallel=num_proc); the rows and source counts are those of
    a build that reads the file whole."""
    from .helpers import all_rows, build

    xml = xml_of(mediawiki_dir / "enwiki-206pages.xml.bz2")
    if kind == "xml":
        path = tmp_path / "en.xml"
        path.write_bytes(xml)
    else:
        path = tmp_path / "en-multistream.xml.bz2"
        write_multistream(xml, path, per=20)
    one, r1 = build(tmp_path, path, name="one")
    two, r2 = build(tmp_path, path, name="two", num_proc=2, source={"min_shard_bytes": 1})
    assert sorted(map(repr, all_rows(two))) == sorted(map(repr, all_rows(one)))
    for key in ("pages_seen", "documents", "skipped", "truncated"):
        assert r2["source"][key] == r1["source"][key], key
    # build_report.json names files relative to the config's folder (tmp_path here)
    shards = source(path).shards(parallel=2)
    assert sorted(f["path"] for f in r2["source"]["files"]) == sorted(os.path.relpath(s, tmp_path) for s in shards)
