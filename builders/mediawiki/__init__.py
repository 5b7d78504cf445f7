"""MediaWiki XML dumps and Special:Export files (Wikipedia in any language, Fandom, company wikis)."""
