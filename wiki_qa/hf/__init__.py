"""The `datasets` shells: `hook.py` makes `load_dataset("wiki_qa", NAME)` find `entry.py`'s builder.

The top of the room graph: it may import the orchestrator (wiki_qa.orchestrator) and everything below it.
"""
