"""The one build step pyproject.toml cannot declare: compiling the translation catalogs.

i18n/<lang>.po (edited by translators) become lanterne/locale/<lang>/LC_MESSAGES/lanterne.mo in
every wheel, editable install and frozen app, so a checkout never carries compiled files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        spec = importlib.util.spec_from_file_location("catalogs", ROOT / "i18n" / "catalogs.py")
        assert spec is not None and spec.loader is not None
        catalogs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(catalogs)
        catalogs.compile_all()
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
