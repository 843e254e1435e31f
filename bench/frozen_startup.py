"""The frozen app's start-up and idle memory, against the same code run from its source install.

    .venv/bin/python bench/frozen_startup.py [--bundle dist/bundle/lanterne] [--trials 5]
        [--settle 10] [--json]

Build the bundle first (`python packaging/build_release.py`, or with `--out`). Each trial
starts the app with no argument (the GUI, Qt's xcb platform) on a private Xvfb in a fresh data
directory past the first-run wizard, and times it from the process start to the MapNotify of
the main window "Lanterne" (window visible). After `--settle` seconds at rest it reads the
memory of the app and of any process it started: RSS and PSS (shared pages split between the
processes sharing them), summed. Frozen and source trials alternate, so both see the same
machine; the reference is the source install (`.venv/bin/lanterne`), reported as a ratio.
Also reports the bundle's size on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for `bench.x11_windows`
from bench.x11_windows import wait_event
from support import xvfb

ROOT = Path(__file__).resolve().parent.parent

SOURCE = Path(sys.executable).with_name("lanterne")
TITLE = "Lanterne"


def frozen_executable(bundle: Path) -> Path:
    return bundle / ("lanterne.exe" if sys.platform == "win32" else "lanterne")


def tree_memory(pid: int) -> dict[str, float]:
    """RSS and PSS in MB of a process and its descendants (Linux smaps_rollup via psutil)."""
    root = psutil.Process(pid)
    rss = pss = 0
    processes = [root, *root.children(recursive=True)]
    for process in processes:
        info = process.memory_full_info()
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return {"rss_mb": rss / 2**20, "pss_mb": pss / 2**20, "processes": len(processes)}


def one_start(executable: Path, display: str, settle: float) -> dict[str, float]:
    from Xlib import X
    from Xlib import display as xdisplay

    with tempfile.TemporaryDirectory(prefix="lanterne-startup-") as home:
        Path(home, "settings.json").write_text('{"ui.first_run_done": true}')  # no wizard
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", LANTERNE_HOME=home, LANGUAGE="en")
        d = xdisplay.Display(display)
        root = d.screen().root
        root.change_attributes(event_mask=X.SubstructureNotifyMask)
        d.sync()
        start = time.perf_counter()
        app = subprocess.Popen(
            [str(executable)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            shown = wait_event(d, X.MapNotify, None, TITLE, 120)
            visible_ms = (shown - start) * 1000
            time.sleep(settle)
            if app.poll() is not None:
                raise RuntimeError(
                    f"{executable} exited: {app.stderr.read() if app.stderr else ''}"
                )
            memory = tree_memory(app.pid)
        finally:
            app.terminate()
            app.wait(60)
            d.close()
    return {"visible_ms": visible_ms, **memory}


def measure(bundle: Path, trials: int, settle: float) -> dict[str, Any]:
    frozen = frozen_executable(bundle)
    if not frozen.exists():
        raise SystemExit(f"no frozen app at {frozen}: run packaging/build_release.py first")
    runs: dict[str, list[dict[str, float]]] = {"frozen": [], "source": []}
    with xvfb.xvfb() as display:
        one_start(frozen, display, 1)  # page cache warmed for both, left out
        one_start(SOURCE, display, 1)
        for _ in range(trials):
            runs["frozen"].append(one_start(frozen, display, settle))
            runs["source"].append(one_start(SOURCE, display, settle))
    result: dict[str, Any] = {"trials": trials, "settle_s": settle}
    for name, samples in runs.items():
        result[name] = {
            key: round(statistics.median(s[key] for s in samples), 1)
            for key in ("visible_ms", "rss_mb", "pss_mb", "processes")
        }
    result["visible_ratio"] = round(
        result["frozen"]["visible_ms"] / result["source"]["visible_ms"], 2
    )
    result["pss_ratio"] = round(result["frozen"]["pss_mb"] / result["source"]["pss_mb"], 2)
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    result["bundle_mb"] = round(sum(p.stat().st_size for p in files) / 1e6, 1)
    result["bundle_files"] = len(files)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "bundle" / "lanterne")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds at rest")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.bundle, args.trials, args.settle)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"bundle: {result['bundle_mb']} MB in {result['bundle_files']} files")
    print(f"{'':8} {'window visible':>15} {'idle RSS':>10} {'idle PSS':>10} {'processes':>10}")
    for name in ("frozen", "source"):
        r = result[name]
        print(
            f"{name:8} {r['visible_ms']:>12.0f} ms {r['rss_mb']:>7.0f} MB {r['pss_mb']:>7.0f} MB"
            f" {r['processes']:>10.0f}"
        )
    print(
        f"frozen / source: window visible x{result['visible_ratio']}, idle PSS "
        f"x{result['pss_ratio']} (medians of {result['trials']} starts each, "
        f"{result['settle_s']:.0f} s at rest)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
