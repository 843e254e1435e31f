"""Answering a question: retrieve passages, build a sourced prompt, stream the model's answer.

This is the one place where the indexer's output meets the engine; the CLI and the GUI both
drive `Assistant` and differ only in how they show its events.
"""
