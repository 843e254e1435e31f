"""The app icon as PNG files, rendered from the one SVG the app itself shows.

    python -m lanterne.desktop.icon_export OUTDIR [--sizes 16,32,...]

Installers need raster icons (Windows .ico, macOS .icns, Linux hicolor PNGs); rendering them
from `assets/lanterne.svg` with Qt's own SVG renderer keeps one drawing for every size.
`packaging/icons.py` assembles the platform formats from these files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lanterne.assets import asset_path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)


def export(out: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(["lanterne-icons"])
    renderer = QSvgRenderer(str(asset_path("lanterne.svg")))
    if not renderer.isValid():
        raise RuntimeError("assets/lanterne.svg cannot be rendered")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"lanterne-{size}.png"
        if not image.save(str(path)):  # PNG, from the suffix
            raise RuntimeError(f"cannot write {path}")
        written.append(path)
    del app
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    for path in export(args.out, sizes):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
