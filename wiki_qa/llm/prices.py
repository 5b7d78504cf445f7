"""USD per 1M tokens. Built-in defaults; override per model in YAML (`prices:` or `prices_file:`)."""
from __future__ import annotations

import yaml

from wiki_qa.errors import UserError

# Public list prices (standard tier) at the time of writing; a user with other terms overrides them.
BUILTIN = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-3.5-turbo": (0.50, 1.50),
    "local": (0.0, 0.0),
}


def price_for(cfg) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens for cfg.model, or None when unknown (cost then reads 0)."""
    if cfg.provider == "local":
        return BUILTIN["local"]
    table = {k: v for k, v in BUILTIN.items()}
    if cfg.prices_file:
        try:
            with open(cfg.prices_file) as f:
                data = yaml.safe_load(f) or {}
            for model, p in data.items():
                table[model] = (float(p["input_per_1m"]), float(p["output_per_1m"]))
        except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as e:
            raise UserError(f"cannot read price table: {e}", path=cfg.prices_file) from None
    for model, p in cfg.prices.items():
        table[model] = (p.input_per_1m, p.output_per_1m)
    if cfg.model in table:
        return table[cfg.model]
    # Dated snapshots ("gpt-4o-mini-2024-07-18") cost what their family costs.
    for model in sorted(table, key=len, reverse=True):
        if cfg.model.startswith(model + "-"):
            return table[model]
    return None


def cost(price, prompt_tokens: int, completion_tokens: int) -> float:
    if not price:
        return 0.0
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6
