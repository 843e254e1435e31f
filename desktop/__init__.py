"""The PySide6 desktop app: the only package allowed to import Qt.

Widgets never call the model, the disk or the network directly: they start work on a thread and
receive its results through Qt signals (see `workers.py`).
"""
