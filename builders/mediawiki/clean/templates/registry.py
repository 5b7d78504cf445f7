"""The table of inline-template renderers: template name -> function(Call) -> visible text.

A renderer module registers its family with `@renders("convert", "cvt")`. Names are matched the way
MediaWiki finds a template page, made a little looser: case-insensitive, `_` = space, runs of spaces
collapsed, a leading `Template:` dropped. Families of numbered or per-language variants (`lang-fr`,
`IPA-de`) register a prefix with `@renders_prefix("lang-")`.

Templates not in the table are dropped by the cleaner and counted by name in build_report.json.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable

Renderer = Callable[["Call"], str]

_BUILTIN: dict[str, Renderer] = {}
_PREFIXES: dict[str, Renderer] = {}
# Prefixes that mean "a template page" in the wikis we know; the rest of the name is the template.
_TEMPLATE_NS = ("template", "subst", "safesubst", "msg", "msgnw", "kigezo", "bản mẫu", "szablon", "vorlage",
                "modèle", "plantilla", "predefinição", "шаблон", "nodyn", "àdàkọ", "samfuri", "cithaneto",
                "ምሳሌ", "fyrimynd", "šablons", "formula")
_SPACES = re.compile(r"[\s_]+")


def renders(*names: str):
    def deco(fn: Renderer) -> Renderer:
        for n in names:
            _BUILTIN[key(n)] = fn
        return fn
    return deco


def renders_prefix(*prefixes: str):
    def deco(fn: Renderer) -> Renderer:
        for p in prefixes:
            _PREFIXES[key(p)] = fn
        return fn
    return deco


def key(name: str) -> str:
    """The lookup key of a template name as written in wikitext."""
    name = _SPACES.sub(" ", name).strip().lower()
    if ":" in name:
        head, rest = name.split(":", 1)
        if head.strip() in _TEMPLATE_NS:
            return key(rest)
    return name


def display_name(name: str) -> str:
    """How a dropped template is named in the report: `Cite web`, `#if`, `DEFAULTSORT`."""
    name = _SPACES.sub(" ", name).strip()
    if ":" in name:
        head, rest = name.split(":", 1)
        if head.strip().lower() in _TEMPLATE_NS:
            return display_name(rest)
        return head.strip()  # a parser function or magic word: {{#if:...}}, {{DEFAULTSORT:...}}
    return name[:1].upper() + name[1:80]


@dataclasses.dataclass
class Context:
    """What a renderer may need beyond its arguments."""

    today: tuple[int, int, int] | None = None  # the revision's date: "(age 41)" is as of the page's revision
    lang: str = "en"


class Call:
    """One template call: `name` (lookup key) and its parameters, already rendered to plain text.

    Positional parameters are keyed "1", "2", ...; named ones by their (stripped) name. `get` strips
    whitespace, as nearly every template does with its parameters.
    """

    __slots__ = ("name", "params", "ctx")

    def __init__(self, name: str, params: dict[str, str], ctx: Context):
        self.name, self.params, self.ctx = name, params, ctx

    def get(self, k, default: str = "") -> str:
        v = self.params.get(str(k))
        if v is None:
            return default
        v = v.strip()
        return v if v else default

    def first(self, *keys, default: str = "") -> str:
        for k in keys:
            v = self.get(k)
            if v:
                return v
        return default

    def positional(self) -> list[str]:
        out, i = [], 1
        while str(i) in self.params:
            out.append(self.params[str(i)].strip())
            i += 1
        return out

    def flag(self, k) -> bool:
        return self.get(k).lower() in ("y", "yes", "on", "true", "1")


class TemplateTable:
    """Built-in renderers, overridden by the user's `clean.templates:` entries."""

    def __init__(self, user: dict[str, Renderer | None] | None = None):
        self._user = {key(k): v for k, v in (user or {}).items()}
        self._cache: dict[str, Renderer | None] = {}

    def lookup(self, name_key: str) -> Renderer | None:
        try:
            return self._cache[name_key]
        except KeyError:
            pass
        fn = self._find(name_key)
        if len(self._cache) < 50_000:
            self._cache[name_key] = fn
        return fn

    def _find(self, k: str) -> Renderer | None:
        if k in self._user:
            return self._user[k]  # None: the user said `drop`
        if k in _BUILTIN:
            return _BUILTIN[k]
        for sep in "-/":  # {{lang-fr|…}}, {{script/Arabic|…}}
            cut = k.find(sep)
            if cut > 0 and k[:cut + 1] in _PREFIXES:
                return _PREFIXES[k[:cut + 1]]
        return None

    def resolve(self, name: str) -> tuple[str, Renderer | None, str | None]:
        """(key, renderer, first argument) of a template name as written. A parser function such as
        `{{formatnum:1234}}` is found under "formatnum:" and its text after the colon is argument 1."""
        k = key(name)
        fn = self.lookup(k)
        if fn is None and ":" in k:
            head, rest = k.split(":", 1)
            fn = self.lookup(head + ":")
            if fn is not None:
                return head + ":", fn, name.split(":", 1)[1]
        return k, fn, None

    def keeps(self, name: str) -> bool:
        """Whether a template of this name renders to text (the pre-pass must not cut it)."""
        return self.resolve(name)[1] is not None


def builtin_names() -> list[str]:
    return sorted(_BUILTIN) + sorted(p + "*" for p in _PREFIXES)
