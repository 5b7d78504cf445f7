"""What a translation must not touch: masked before sending, checked and restored after the reply.

`mask(text)` replaces code blocks, inline code, URLs and e-mail addresses, `{placeholders}`, markup tags,
numbers, and the markers at the start of lines (list bullets and numbers, `A.` option letters, `#` headings,
`>` quotes) by numbered tokens `⟦1⟧`, `⟦2⟧`, ... The model is told to copy every token unchanged;
`restore(reply, masked)` then checks that each token came back exactly once and that the reply has the
source's line structure, and puts the originals back in place. Tokens keep their original order in the
source; each is restored where the translation put it, so reordered placeholders stay right.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

OPEN, CLOSE = "⟦", "⟧"
TOKEN = re.compile(r"⟦(\d+)⟧")

# Markers at the start of a line: list bullets, numbered items, option letters (MMLU "A. "), headings,
# quotes, with the space after them.
_LINE_MARKER = r"^[ \t]*(?:[-*+•‣◦]|\d{1,3}[.)]|[A-Za-z][.)]|#{1,6}|>+)[ \t]+"
LINE_MARKER = re.compile(_LINE_MARKER)

# Order matters: a code block may hold a URL or a number, a URL holds numbers.
_PATTERNS = [
    r"```.*?(?:```|\Z)",                                  # fenced code block (to its end if unclosed)
    r"~~~.*?(?:~~~|\Z)",
    r"`[^`\n]+`",                                         # inline code
    _LINE_MARKER,
    r"\b(?:https?|ftp)://[^\s<>\"'`)\]]+|\bwww\.[^\s<>\"'`)\]]+",  # URLs
    r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b",                  # e-mail addresses
    r"\{\{[^{}\n]*\}\}|\{[A-Za-z_][\w.]*(?:![rsa])?(?::[^{}\n]*)?\}|\{\d*\}",  # {{x}}, {name}, {0}, {}
    r"\$\{[^}\n]*\}|%\([A-Za-z_]\w*\)[sdfr]|%[sd]",       # ${x}, %(name)s, %s
    r"</?[A-Za-z][\w:-]*(?:\s[^<>\n]*)?/?>",              # markup tags (their text is translated)
    r"⟦|⟧",                                               # the token brackets themselves, if the text has them
    r"(?<![\w.,])[-+]?\d+(?:[.,:/]\d+)*(?![\w])",         # numbers: 2019, 1,000.5, 3:30, 12/05, -4
]
_PROTECTED = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.S | re.M)


@dataclass
class Masked:
    text: str                                         # what the model sees
    originals: list[str] = field(default_factory=list)  # token n -> the original text it stands for
    lines: int = 1                                    # non-empty lines of the masked text

    def token(self, n: int) -> str:
        return f"{OPEN}{n}{CLOSE}"


@dataclass
class Restored:
    text: str
    missing: list[str] = field(default_factory=list)     # originals whose token did not come back
    repeated: list[str] = field(default_factory=list)    # originals whose token came back more than once
    unknown: list[str] = field(default_factory=list)     # tokens the source did not have
    lines: tuple[int, int] = (0, 0)                      # (source, reply) non-empty lines

    @property
    def ok(self) -> bool:
        return not (self.missing or self.repeated or self.unknown) and self.lines[0] == self.lines[1]

    def problem(self) -> str:
        parts = []
        for what, items in (("lost", self.missing), ("repeated", self.repeated), ("invented", self.unknown)):
            if items:
                parts.append(f"{what} {', '.join(repr(x[:40]) for x in items[:5])}")
        if self.lines[0] != self.lines[1]:
            parts.append(f"{self.lines[1]} lines instead of {self.lines[0]}")
        return "; ".join(parts)


def mask(text: str) -> Masked:
    m = Masked("")

    def sub(match: re.Match) -> str:
        m.originals.append(match.group(0))
        return m.token(len(m.originals))

    m.text = _PROTECTED.sub(sub, text)
    m.lines = _count_lines(m.text)  # a masked code block is one line
    return m


def restore(reply: str, masked: Masked) -> Restored:
    counts: dict[int, int] = {}
    for t in TOKEN.finditer(reply):
        counts[int(t.group(1))] = counts.get(int(t.group(1)), 0) + 1
    n = len(masked.originals)
    out = Restored("", lines=(masked.lines, _count_lines(reply)))
    out.missing = [masked.originals[i - 1] for i in range(1, n + 1) if counts.get(i, 0) == 0]
    out.repeated = [masked.originals[i - 1] for i in range(1, n + 1) if counts.get(i, 0) > 1]
    out.unknown = [f"{OPEN}{i}{CLOSE}" for i in counts if not 1 <= i <= n]

    def back(t: re.Match) -> str:
        i = int(t.group(1))
        return masked.originals[i - 1] if 1 <= i <= n else t.group(0)

    # Line markers were masked with their trailing space: a model that adds a space after the token must
    # not double it.
    text = TOKEN.sub(back, re.sub(r"(⟦\d+⟧)[ \t]+", lambda t: t.group(1) if _is_marker(t.group(1), masked)
                                  else t.group(0), reply))
    out.text = text
    return out


def strip_tokens(text: str) -> str:
    """The text without tokens (what language ID and length checks read)."""
    return re.sub(r"[ \t]{2,}", " ", TOKEN.sub(" ", text)).strip()


def _is_marker(token: str, masked: Masked) -> bool:
    i = int(TOKEN.fullmatch(token).group(1))
    return 1 <= i <= len(masked.originals) and masked.originals[i - 1][-1:] in (" ", "\t")


def _count_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip())
