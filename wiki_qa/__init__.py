"""wiki_qa: MediaWiki dumps, news and benchmarks -> fine-tuning DatasetDicts.

`import wiki_qa` registers the builder, so `datasets.load_dataset("wiki_qa", NAME)` works. The functions
below are the library API; each imports its room on first use, so `import wiki_qa` stays light.
"""
from wiki_qa.hf import hook as _hook
from wiki_qa.version import __version__

_hook.install()


def build(config, overrides=None, **kwargs):
    """Run a build from a config name, YAML path or BuildConfig; returns the build report."""
    from wiki_qa.config import BuildConfig, load_config
    from wiki_qa.orchestrator import run

    cfg = config if isinstance(config, BuildConfig) else load_config(config, overrides)
    return run(cfg, **kwargs)


def generate(dataset, task=None, llm=None, **kwargs):
    """The LLM map step on any datasets.Dataset (see wiki_qa.llm)."""
    from wiki_qa.llm import generate as _generate

    return _generate(dataset, task=task, llm=llm, **kwargs)


def load_from_s3(url, **storage_options):
    """A DatasetDict from an S3 tarball or parquet prefix written by `wiki-qa push --s3`."""
    from wiki_qa.publish import load_from_s3 as _load

    return _load(url, **storage_options)


__all__ = ["__version__", "build", "generate", "load_from_s3"]
