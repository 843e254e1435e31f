"""Folders of documents into a searchable SQLite index: scan, extract, chunk, store, retrieve.

Never imports Qt: the GUI and the CLI drive it through plain callbacks.
"""
