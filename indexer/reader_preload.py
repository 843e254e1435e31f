"""Imported once by the reader processes' fork server (indexer/reader_pool.py, Linux): readers
forked from it start with the extractors imported and the language model loaded, its arrays
shared between them rather than decompressed (half a second) and held once per reader. Readers
spawned on macOS and Windows have no fork server: each imports and loads them itself."""

from lanterne.foundation import language
from lanterne.indexer import file_reader as _file_reader  # noqa: F401  (the import is the point)

language.load()
