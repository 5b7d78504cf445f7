"""`clean.templates:` entries from a build config -> renderers.

    clean:
      templates:
        Infobox person: drop              # cut it even if a built-in renderer exists
        Tooltip: "{1}"                    # a format string over the arguments: {1}, {2}, {name}
        Sfrac: {keep_args: [1, 2], sep: "/"}

A format string only substitutes `{name}` fields (missing ones become empty); nothing else in it is
evaluated, so a config cannot reach Python objects through it.
"""
from __future__ import annotations

import re

from wiki_qa.builders.mediawiki.clean.templates.registry import Call, Renderer

_FIELD = re.compile(r"\{([^{}]*)\}")


def user_renderers(user: dict) -> dict[str, Renderer | None]:
    return {name: _compile(name, spec) for name, spec in user.items()}


def _compile(name: str, spec) -> Renderer | None:
    if isinstance(spec, str):
        if spec.strip().lower() == "drop":
            return None
        return _format(spec)
    keep = spec.get("keep_args")
    if keep is not None:
        sep = spec.get("sep", " ")
        keys = [str(k) for k in keep]

        def keep_args(c: Call) -> str:
            return sep.join(v for v in (c.get(k) for k in keys) if v)
        return keep_args
    return _format(spec["format"])


def _format(fmt: str) -> Renderer:
    def render(c: Call) -> str:
        return _FIELD.sub(lambda m: c.get(m.group(1).strip()), fmt)
    return render
