"""BuildConfig: one YAML file describes one reproducible build.

Loading does, in order: load `.env` (the working folder's, then the config folder's; never a parent's) ->
read YAML (aliases allowed, their expanded size capped) -> apply overrides (`--set a.b=c` or load_dataset
keywords) -> interpolate ${ENV} -> check `prompt_file` (it is sent to the LLM server) -> validate with
pydantic. Every failure is a UserError with one line naming the file and the key, with a "did you mean"
for misspelt keys. A YAML is code-equivalent in trust: it chooses which files are read and where data goes.
"""
from __future__ import annotations

import copy
import difflib
import importlib.resources
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator

from wiki_qa.builders import SOURCE_MODELS, SourceConfig
from wiki_qa.builders.mediawiki.clean import CleanConfig
from wiki_qa.configbase import StrictModel
from wiki_qa.errors import UserError
from wiki_qa.llm.config import GenerateConfig, LLMConfig, migrate_legacy
from wiki_qa.llm.tasks.judge import JudgeConfig
from wiki_qa.pipeline.chunk import ChunkConfig
from wiki_qa.pipeline.formats import FormatConfig
from wiki_qa.pipeline.split import SplitConfig
from wiki_qa.preference.config import PreferenceConfig
from wiki_qa.publish.config import OutputConfig
from wiki_qa.quality.config import CheckConfig, DecontaminateConfig, DedupConfig
from wiki_qa.secrets import mask_secrets, read_dotenv, register_secret

SOURCE_TAGS = tuple(SOURCE_MODELS)


class BuildConfig(StrictModel):
    name: str
    source: SourceConfig
    clean: CleanConfig = CleanConfig()
    chunk: ChunkConfig = ChunkConfig()
    generate: GenerateConfig | None = None
    llm: LLMConfig | None = None
    judge: JudgeConfig | None = None    # off unless set; `judge: true` scores items with the llm: model
    preference: PreferenceConfig | None = None  # pairs with a rejected side (format: preference | kto)
    format: FormatConfig = FormatConfig()
    split: SplitConfig = SplitConfig()
    dedup: DedupConfig = DedupConfig()
    decontaminate: DecontaminateConfig = DecontaminateConfig()
    check: CheckConfig = CheckConfig()
    output: OutputConfig = OutputConfig()
    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # with engine: ray; "auto" = an existing cluster
    ray_staging: str | None = None  # with engine: ray; where workers write rows (shared folder or s3://)
    limit: int | None = Field(default=None, ge=1)  # documents read per input file
    num_proc: int | None = Field(default=None, ge=1)
    # A prompt_file outside the config's folder is refused unless this is set: the file is sent to the LLM.
    allow_any_prompt_file: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", v):
            raise ValueError("name may hold only letters, digits, '.', '_' and '-'")
        return v

    @field_validator("format", mode="before")
    @classmethod
    def _format_shorthand(cls, v):
        return {"type": v} if isinstance(v, str) else v

    # Set by the loader: the YAML's path, the tree before ${ENV} interpolation (what the echo masks), and
    # the interpolated values (masked wherever they are echoed).
    _path: str | None = PrivateAttr(default=None)
    _raw: dict | None = PrivateAttr(default=None)
    _secrets: set = PrivateAttr(default_factory=set)

    @property
    def out_dir(self) -> str:
        return self.output.dir or os.path.join("out", self.name)

    def config_path(self) -> str:
        """The YAML this build came from (or its name), for one-line errors."""
        return self._path or self.name

    def inputs_label(self) -> str:
        p = (getattr(self.source, "path", None) or getattr(self.source, "html_dir", None)
             or getattr(self.source, "wiki", None) or getattr(self.source, "api", None) or self.name)
        return p if isinstance(p, str) else ",".join(p)

    def base_dir(self) -> Path:
        """The config's folder: relative paths in the YAML start here, and published files show paths
        relative to it."""
        return Path(self._path).parent.resolve() if self._path else Path.cwd()

    def echo(self) -> dict:
        """The resolved config as JSON for build_report.json and the card: interpolated values and credentials
        masked, local paths relative to the config's folder (or file names only)."""
        from wiki_qa.publish.public import public_paths

        return public_paths(mask_secrets(self.model_dump(mode="json"), self._raw), self.base_dir())

    def echo_yaml(self) -> str:
        return yaml.safe_dump(self.echo(), sort_keys=False, allow_unicode=True)


# --- loading -----------------------------------------------------------------------------------------

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def configs_dir() -> Path:
    return Path(str(importlib.resources.files("wiki_qa.configs")))


def shipped_configs() -> dict[str, Path]:
    return {p.stem: p for p in sorted(configs_dir().glob("*.yaml"))}


def find_config(name_or_path: str) -> Path:
    p = Path(name_or_path).expanduser()
    if p.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        if not p.exists():
            raise UserError(f"{name_or_path}: no such config file")
        return p
    shipped = shipped_configs()
    if name_or_path in shipped:
        return shipped[name_or_path]
    hint = difflib.get_close_matches(name_or_path, list(shipped), n=1)
    raise UserError(f"{name_or_path}: no such config; shipped configs: {', '.join(shipped)}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else ""))


def _interpolate(obj: Any, where: str, secrets: set[str]) -> Any:
    if isinstance(obj, dict):
        return {k: _interpolate(v, where, secrets) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_interpolate(v, where, secrets) for v in obj]
    if isinstance(obj, str) and "${" in obj:
        def sub(m):
            val = os.environ.get(m.group(1), m.group(2))
            if val is None:
                raise UserError(f"{where}: ${{{m.group(1)}}} is not set (in the environment or .env)")
            return val
        out = _ENV.sub(sub, obj)
        secrets.add(out)  # interpolated values are masked in every echo of the config
        return out
    return obj


# A YAML alias bomb (about 300 bytes, "billion laughs" with anchors) expands to billions of nodes when the
# tree is walked. Aliases are fine (`<<: *defaults`), but the tree they expand to is capped.
MAX_YAML_NODES = 200_000


def _expanded_size(node: yaml.Node, memo: dict, open_: set, where: str) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in open_:
        raise UserError(f"{where}: a YAML alias refers to itself")
    open_.add(key)
    if isinstance(node, yaml.SequenceNode):
        n = 1 + sum(_expanded_size(c, memo, open_, where) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        n = 1 + sum(_expanded_size(k, memo, open_, where) + _expanded_size(v, memo, open_, where)
                    for k, v in node.value)
    else:
        n = 1
    open_.discard(key)
    if n > MAX_YAML_NODES:
        raise UserError(f"{where}: the YAML expands to more than {MAX_YAML_NODES} values through its aliases "
                        "(an alias bomb?)")
    memo[key] = n
    return n


def safe_yaml(text: str, where: str) -> Any:
    """yaml.safe_load, with the size of the tree that aliases expand to checked before it is built."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set(), where)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise UserError(f"--set {item}: expected KEY=VALUE, e.g. --set chunk.max_tokens=512")
    key, raw = item.split("=", 1)
    try:
        return key.strip().split("."), safe_yaml(raw, f"--set {key.strip()}") if raw.strip() else ""
    except yaml.YAMLError as e:
        raise UserError(f"--set {key.strip()}: invalid YAML value: {getattr(e, 'problem', e)}") from None


def _set(tree: dict, path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {} if node.get(part) is None or not isinstance(node.get(part), dict) else node[part]
        node = node[part]
    node[path[-1]] = value


def keyword_override_path(key: str, tree: dict) -> list[str]:
    """load_dataset keywords: `source_path` -> source.path, `chunk_max_tokens` -> chunk.max_tokens."""
    if "." in key:
        return key.split(".")
    sections = set(BuildConfig.model_fields)
    for section in sorted(sections, key=len, reverse=True):
        if key.startswith(section + "_") and section not in ("name", "engine", "limit"):
            return [section, key[len(section) + 1:]]
    return [key]


def load_config(path_or_name: str | os.PathLike, overrides: list[str] | dict | None = None,
                dotenv: bool = True) -> BuildConfig:
    path = find_config(str(path_or_name))
    if dotenv:
        load_env_files(path)
    try:
        tree = safe_yaml(path.read_text(encoding="utf-8"), str(path))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}:{where} invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(tree, dict):
        raise UserError(f"{path}: expected a YAML mapping at the top level")
    for key, value in _override_items(overrides, tree):
        _set(tree, key, value)
        _one_origin(tree, key)
    return from_dict(tree, path)


def _one_origin(tree: dict, key: list[str]) -> None:
    """`--set source.wiki=yo` on a config that reads `source.path`: the override replaces the input, so the
    YAML's other origin goes (a MediaWiki source takes exactly one of path, wiki and api)."""
    from wiki_qa.builders.mediawiki.config import ORIGINS

    src = tree.get("source")
    if len(key) == 2 and key[0] == "source" and key[1] in ORIGINS and isinstance(src, dict) \
            and src.get("type") == "mediawiki":
        for other in ORIGINS:
            if other != key[1]:
                src.pop(other, None)


def load_env_files(config_path: Path) -> list[Path]:
    """Load `.env` from the working folder, then from the config's folder, and from nowhere else (a search
    upwards once loaded an OPENAI_BASE_URL from two folders up). The environment wins over both files, and
    the working folder's `.env` wins over the config folder's. Returns the files loaded."""
    loaded = []
    for folder in dict.fromkeys([Path.cwd().resolve(), Path(config_path).parent.resolve()]):
        values = read_dotenv(folder / ".env")  # registers secret-looking values for redaction
        for name, value in values.items():
            os.environ.setdefault(name, value)
        if values:
            loaded.append(folder / ".env")
    return loaded


def _override_items(overrides, tree):
    if not overrides:
        return []
    if isinstance(overrides, dict):
        return [(keyword_override_path(k, tree), v) for k, v in overrides.items()]
    return [parse_override(o) for o in overrides]


def from_dict(tree: dict, path: Path | str = "<config>") -> BuildConfig:
    path = Path(path)
    migrate_legacy(tree)  # engine keys under generate: -> llm: (before the raw copy the echo masks with)
    secrets: set[str] = set()
    raw = copy.deepcopy(tree)
    tree = _interpolate(tree, str(path), secrets)
    tree.setdefault("name", path.stem)
    _resolve_relative_paths(tree, path.parent)
    _check_prompt_files(tree, path, str(path))
    _register_api_keys(tree)
    try:
        cfg = BuildConfig.model_validate(tree)
    except ValidationError as e:
        raise UserError(f"{path}: {_explain(e, tree)}") from None
    cfg._secrets, cfg._raw, cfg._path = secrets, raw, str(path)
    return cfg


def _resolve_relative_paths(tree: dict, base: Path) -> None:
    """Input paths in a YAML are relative to the YAML's folder (so shipped configs find shipped data)."""
    _resolve_llm_cache(tree, base)
    src = tree.get("source")
    if not isinstance(src, dict):
        return
    for key in ("path", "html_dir", "data_dir"):
        val = src.get(key)
        vals = val if isinstance(val, list) else [val]
        fixed = []
        for v in vals:
            if isinstance(v, str) and "://" not in v and not os.path.isabs(os.path.expanduser(v)):
                cand = base / v
                v = str(cand) if (cand.exists() or any(c in v for c in "*?[")) and not os.path.exists(v) else v
            fixed.append(v)
        if val is not None:
            src[key] = fixed if isinstance(val, list) else fixed[0]


def _resolve_llm_cache(tree: dict, base: Path) -> None:
    """A relative `llm.cache` (or `judge.llm.cache`) is in the config's folder, whatever the working folder
    (`--refresh` moves a damaged one aside: it must be the file the build uses). A shipped config's folder is
    the installed package, so there it is the working folder."""
    judge = tree.get("judge")
    for llm in (tree.get("llm"), judge.get("llm") if isinstance(judge, dict) else None):
        if isinstance(llm, dict) and isinstance(llm.get("cache"), str) and llm["cache"]:
            path = Path(os.path.expanduser(llm["cache"]))
            if not path.is_absolute():
                folder = base.resolve()
                llm["cache"] = str((Path.cwd() if folder == configs_dir().resolve() else folder) / path)


def _slots(node: Any, key: str):
    """(mapping, key) for every `key` in a nested YAML tree: the llm sections may nest tasks and endpoints."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield node, k
            yield from _slots(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _slots(v, key)


def _check_prompt_files(tree: dict, config_path: Path, where: str) -> None:
    """A prompt_file is read and sent to the LLM server, so a shared YAML must not be able to point it at
    `~/.ssh/id_ed25519`: it must lie in the config's folder (or, for a shipped config or a config without a
    file, in the working folder) unless `allow_any_prompt_file: true`. `~` is expanded; a relative path is
    looked up in the config's folder, then the working folder."""
    base = config_path.parent.resolve()
    shipped = base == configs_dir().resolve() or not config_path.is_file()
    roots = [base] + ([Path.cwd().resolve()] if shipped else [])
    for section in ("generate", "llm", "judge", "preference"):
        for node, key in list(_slots(tree.get(section), "prompt_file")):
            raw = node[key]
            if not isinstance(raw, str) or not raw:
                continue  # None: no override; other types: pydantic says what is wrong
            p = Path(os.path.expanduser(raw))
            candidates = [p] if p.is_absolute() else [base / p, Path.cwd() / p]
            found = next((c for c in candidates if c.is_file()), None)
            if found is None:
                raise UserError(f"{where}: {section}.prompt_file: no such file {raw!r}")
            real = found.resolve()
            if tree.get("allow_any_prompt_file") is not True and not any(real.is_relative_to(r) for r in roots):
                raise UserError(f"{where}: {section}.prompt_file {raw!r} is outside the config's folder; it would "
                                "be sent to the LLM server (set allow_any_prompt_file: true if that is intended)")
            node[key] = str(real)


def _register_api_keys(tree: dict) -> None:
    """The LLM key comes from the variable named by `api_key_env`, whatever it is called: mask its value."""
    for section in ("generate", "llm", "judge", "preference"):
        for node, key in _slots(tree.get(section), "api_key_env"):
            if isinstance(node[key], str):
                register_secret(os.environ.get(node[key]))


def _explain(err: ValidationError, tree: dict) -> str:
    e = err.errors()[0]
    loc = [str(x) for x in e["loc"] if not (isinstance(x, str) and x in SOURCE_TAGS)]
    key = ".".join(loc)
    if e["type"] == "extra_forbidden":
        parent = tree
        model_fields: list[str] = []
        for part in loc[:-1]:
            parent = parent.get(part, {}) if isinstance(parent, dict) else {}
        model_fields = _fields_at(loc[:-1], tree)
        hint = difflib.get_close_matches(loc[-1], model_fields, n=1)
        return f"unknown key {key!r}" + (f" (did you mean {'.'.join(loc[:-1] + [hint[0]])!r}?)" if hint else
                                          f"; allowed: {', '.join(model_fields)}" if model_fields else "")
    if e["type"] == "union_tag_invalid" or e["type"] == "union_tag_not_found":
        return f"{key or 'source'}.type: must be one of {', '.join(SOURCE_TAGS)}"
    msg = e["msg"].removeprefix("Value error, ")
    more = f" (and {len(err.errors()) - 1} more problem(s))" if len(err.errors()) > 1 else ""
    return f"{key}: {msg}{more}" if key else msg + more


def _fields_at(loc: list[str], tree: dict) -> list[str]:
    model: Any = BuildConfig
    node: Any = tree
    for part in loc:
        if model is None:
            return []
        if part == "source":
            node = node.get("source", {}) if isinstance(node, dict) else {}
            model = SOURCE_MODELS.get(node.get("type")) if isinstance(node, dict) else None
            continue
        field = model.model_fields.get(part)
        node = node.get(part, {}) if isinstance(node, dict) else {}
        ann = field.annotation if field else None
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)
                      and issubclass(a, StrictModel)), None)
    return list(model.model_fields) if model else []

