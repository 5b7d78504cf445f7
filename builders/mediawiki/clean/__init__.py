"""Wikitext -> the text a reader sees. Owned by the MediaWiki source; the shared pipeline only calls
`MediaWikiSource.to_text(doc, stats)`."""
from wiki_qa.builders.mediawiki.clean.config import CleanConfig, options
from wiki_qa.builders.mediawiki.clean.wikitext import (CleanOptions, WikiSyntax, is_disambiguation, is_redirect,
                                                       to_text)

__all__ = ["CleanConfig", "CleanOptions", "WikiSyntax", "is_disambiguation", "is_redirect", "options", "to_text"]
