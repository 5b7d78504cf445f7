"""How long a server asks to be left alone: Retry-After-Ms / Retry-After (seconds or an HTTP date).

One reading for every HTTP client of wiki_qa (the LLM transport, dump downloads, the MediaWiki API reader).
It only reads the header: each caller decides what a long wait means (the LLM engine caps it, a dump mirror
that asks for too long is left for the next one).
"""
from __future__ import annotations

import email.utils
import math
import time


def retry_after(headers) -> float | None:
    """Seconds to wait; None when the headers ask nothing, or ask for a negative or non-finite wait (a
    server's nonsense is no reason to park a build)."""
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        v = headers.get(name) if headers else None
        if not v:
            continue
        try:
            secs = float(v) * scale
        except ValueError:
            if name != "retry-after":
                continue
            try:
                secs = max(0.0, email.utils.parsedate_to_datetime(v).timestamp() - time.time())
            except (TypeError, ValueError, OverflowError):
                continue
        if math.isfinite(secs) and secs >= 0:
            return secs
    return None
