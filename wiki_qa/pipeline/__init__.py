"""The shared pipeline stages, plain functions over rows: chunk, split, formats, and stages.py, which runs
source -> split -> clean -> chunk for one shard.

May import the sources (wiki_qa.builders) and the leaf modules (rows, tokens, configbase); never the
config, an executor or the orchestrator. A stage never knows how it is scheduled.
"""
