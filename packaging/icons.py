"""Platform icons for the installers: Windows .ico, macOS .icns, Linux hicolor PNGs.

The PNGs come from the app's SVG (`lanterne.desktop.icon_export`, run in its own process with
Qt's offscreen platform so no display is needed); Pillow packs them into .ico and .icns, so a
Linux machine builds and checks the Windows and macOS icons too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # what Explorer and the taskbar pick from
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)  # the sizes an .icns holds (1x and 2x)
HICOLOR_SIZES = (48, 128, 256)


def render_pngs(out: Path) -> dict[int, Path]:
    subprocess.run(
        [sys.executable, "-m", "lanterne.desktop.icon_export", str(out)],
        check=True,
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return {int(p.stem.rsplit("-", 1)[1]): p for p in out.glob("lanterne-*.png")}


def build_icons(out: Path) -> dict[str, Path]:
    """`ico`, `icns` and one `png-N` per hicolor size, all under `out`."""
    from PIL import Image

    pngs = render_pngs(out / "png")
    largest = Image.open(pngs[max(pngs)])
    ico = out / "lanterne.ico"
    largest.save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES])
    icns = out / "lanterne.icns"
    largest.save(icns, format="ICNS", sizes=[(s, s) for s in ICNS_SIZES])
    icons = {"ico": ico, "icns": icns}
    icons.update({f"png-{size}": pngs[size] for size in HICOLOR_SIZES})
    return icons
