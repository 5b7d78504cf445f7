"""Plain-text source: text files (or an fsspec glob) -> one document per file of kept paragraphs."""
