"""Lanterne: a private French/English desktop copilot over the user's own documents."""

import logging
from importlib import metadata

try:
    __version__ = metadata.version("lanterne")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

# A library stays silent unless the application configures logging.
logging.getLogger("lanterne").addHandler(logging.NullHandler())

__all__ = ["__version__"]
