"""Instruction data (VMware/open-instruct, Alpaca, Dolly, any prompt/answer pair) -> prompt/completion examples."""
