"""Setting up the fake server's translator (tests/servers/translator.py) for the translate tests."""
from __future__ import annotations

from wiki_qa.llm.tasks.base import LANGUAGES


def configure(fake, pairs=(), **kw):
    """Parallel pairs, faults etc. for translate prompts; the server learns the prompt's language names here."""
    names = {name: code for code, name in LANGUAGES.items()}
    return fake.configure(translator={"pairs": list(pairs), "names": names, **kw})
