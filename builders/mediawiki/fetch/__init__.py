"""A Wikimedia wiki's dump by name: resolve the run on a mirror, download it into the wiki_qa cache
(verified), and give the build local files. See dumps.py; the api.php side is builders/mediawiki/api/."""
from wiki_qa.builders.mediawiki.fetch.dumps import Fetched, fetch_dump

__all__ = ["Fetched", "fetch_dump"]
