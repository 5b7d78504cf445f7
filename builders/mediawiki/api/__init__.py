"""Any MediaWiki site through its api.php (Fandom, company wikis, wikis without dumps): see crawl.py."""
from wiki_qa.builders.mediawiki.api.crawl import Snapshot, snapshot

__all__ = ["Snapshot", "snapshot"]
