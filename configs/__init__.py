"""Build configs shipped with wiki_qa: each YAML here is a `load_dataset("wiki_qa", NAME)` config."""
