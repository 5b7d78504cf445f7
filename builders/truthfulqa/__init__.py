"""TruthfulQA (sylinrl/TruthfulQA.csv) -> prompt/completion examples: the generation form or MC1."""
