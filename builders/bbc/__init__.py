"""BBC News / World Service: a polite resumable crawler, offline saved pages, and layout-aware extraction."""
