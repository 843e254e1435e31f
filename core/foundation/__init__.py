"""The foundation layer: what every other layer may import, and which imports none of them.

Paths, settings and the organisation's policy, the SQLite database, translation, and the text
analysis (language detection, stemming) that the indexer and the assistant share. `engine/` and
`indexer/` build on this; the application (`lanterne.*` outside this package) and `desktop/` sit
above. `tests/test_layers.py` holds the rule.
"""
