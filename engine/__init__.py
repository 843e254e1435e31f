"""Running GGUF models in-process with llama-cpp-python: loading, offload planning, streaming.

Never imports Qt; the GUI and the CLI consume the same iterators and callbacks.
"""
