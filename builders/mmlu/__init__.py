"""MMLU (hendrycks/test) -> prompt/completion examples, from a folder, the released data.tar, or cais/mmlu parquet."""
