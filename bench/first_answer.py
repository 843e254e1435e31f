"""Time to first answer from an empty data folder: today's path against the new one (#29).

    .venv/bin/python bench/first_answer.py [--rate-mbps 50] [--language both|fr|en] [--json]

A local hub (tests/support/hub_server.py, in this process) serves the test suite's Gemma 3
270M GGUF (253 MB) as the catalog's Granite 4.0 H Tiny Q4_K_M, throttled to `--rate-mbps`
megabits/s (default 50: about 40 s, a real line's speed for a file 17 times smaller than the
real one). Each path runs in a process of its own (nothing loaded by the first helps the
second) with a new empty LANTERNE_HOME and HF_HOME, HF_ENDPOINT pointing at the hub, and
drives the real components under offscreen Qt, as `run_gui` and `_first_run` do: MainWindow
shown, FirstRunWizard over it with the window's DownloadService, the model chosen in the
wizard's catalog and Download clicked, the handbook folders added on the folders page, then
the wizard's folders given to `window.add_folder` (the IndexingBridge indexes them), the
question typed and `window.ask()`, and the Search window (`window.open_search()`, its own
`search_now` on its worker thread) polled every 100 ms.

  today  the wizard goes on only once the download has arrived (verified and registered), as
         its model page's Next did before #29;
  new    the wizard goes on at once; the question waits for the model (WaitingQuestion).

Clicking and typing take no time: each step is done as soon as the widgets allow it (the
model page's catalog listed), so the figures are the app's waits only.

Milestones, seconds from the app's launch (the path's process spawned; imports included): the
main window shown, the download asked for, the main window usable (wizard finished, folders
handed over), the first Search window result, words indexed (the index service ready with
every folder read, nothing pending), vectors complete (the last embedding batch: every passage
has a vector), the download done (arrived), the first token of the question's turn, the
answer done.

The "(c)" columns are computed, not measured: the catalog file's real 4.23 GB over a
`--line-mbps` line (default 50), then its SHA-256 check at this machine's rate at rest; what
waited for the download moves with it. The larger model's longer load is not in them.

Both languages take about 11 minutes on 2 cores, most of it making the vectors (about 300 s a
path); `--language en` about 8, `--skip-vectors` ends each path at its answer (about 2).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The repository root, for `bench.*`; bench.models puts tests/ on the path for `support.*`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.corpora import handbook
from bench.models import gemma_test_model
from bench.quiet import ForeignLoad, wait_for_quiet

REPO, FILE = "ibm-granite/granite-4.0-h-tiny-GGUF", "granite-4.0-h-tiny-Q4_K_M.gguf"
REAL_SIZE = 4_230_976_352  # the catalog's size of that file
STARTER_REPO, STARTER_FILE = "ibm-granite/granite-4.0-h-1b-GGUF", "granite-4.0-h-1b-Q4_K_M.gguf"
STARTER_SIZE = 901_162_208
QUERIES = {  # (search, question) per handbook language chosen
    "en": ("firewall", "How do I set up a firewall on Debian?"),
    "fr": ("pare-feu", "Comment configurer un pare-feu sous Debian ?"),
    "both": ("firewall", "How do I set up a firewall on Debian?"),
}
MILESTONES = [
    ("window_shown", "main window shown (wizard over it)"),
    ("download_requested", "download asked for"),
    ("main_window", "main window usable (wizard done)"),
    ("first_search_result", "first search result"),
    ("words_indexed", "words fully indexed"),
    ("vectors_complete", "vectors complete"),
    ("starter_done", "starter downloaded"),
    ("download_done", "download done"),
    ("first_token", "first answer's first token"),
    ("answer_done", "answer done"),
]
RESULT_MARK = "FIRST_ANSWER_RESULT "


def folders(language: str) -> list[Path]:
    html = handbook()
    chosen = {"fr": ["fr-FR"], "en": ["en-US"], "both": ["fr-FR", "en-US"]}[language]
    return [html / name for name in chosen]


# The parent: the hub, one process per path, the table ---------------------------------------


def run_path(path: str, hub_url: str, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"lanterne-first-answer-{path}-"))
    env = dict(os.environ)
    env.update(
        LANTERNE_HOME=str(work / "home"),  # empty: the first start
        HF_HOME=str(work / "hf-home"),  # no token or cache of the user's
        HF_ENDPOINT=hub_url,  # the settings stay untouched: the data folder starts empty
        QT_QPA_PLATFORM="offscreen",
        LANGUAGE="en",
    )
    env.pop("LANTERNE_MODEL", None)
    command = [sys.executable, __file__, "--child", path, "--language", args.language]
    if args.tokens:
        command += ["--tokens", str(args.tokens)]
    if args.skip_vectors:
        command += ["--skip-vectors"]
    wait_for_quiet(0.3, 60)
    load = ForeignLoad()
    command += ["--timeout", str(args.timeout), "--t0", repr(time.monotonic())]  # the launch
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the downloaded model, the index
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK) :])
            result["foreign_cores"] = round(load.cores(), 2)  # other processes' CPU meanwhile
            return result
    sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
    raise RuntimeError(f"the {path} path ended without a result (exit {done.returncode})")


def hash_rate(model: Path) -> float:
    """Bytes/s of the download's check (SHA-256 of the file) on this machine at rest."""
    from lanterne.engine.hub_download import file_sha256

    start = time.perf_counter()
    file_sha256(model)
    return model.stat().st_size / (time.perf_counter() - start)


def computed_real(
    result: dict[str, Any], path: str, line_mbps: float, check_rate: float
) -> dict[str, Any]:
    """The milestones with the real files over a `line_mbps` line: each transfer at that rate,
    then its check at `check_rate` (the machine at rest by then); what waited for a download
    moves with it (today: all after the click; new: the model's load and the answer; starter:
    the answer with the starter's arrival, the recommended file after it)."""
    t = result["t"]
    if t.get("download_done") is None or t.get("download_requested") is None:
        return {}

    def arrival(start: float, size: int) -> tuple[float, float]:
        transferred = start + size * 8 / (line_mbps * 1e6)
        return transferred, transferred + size / check_rate

    answer = {"model_loaded", "sources_retrieved", "first_token", "answer_done"}
    out = dict(t)
    if path == "starter" and t.get("starter_done") is not None:
        _sent, starter = arrival(t["download_requested"], STARTER_SIZE)
        transferred, done = arrival(starter, REAL_SIZE)
        for key in answer & set(t):
            out[key] = round(t[key] + starter - t["starter_done"], 1)
        out["starter_done"], out["download_done"] = round(starter, 1), round(done, 1)
        out["verifying"] = round(transferred, 1)
        return out
    transferred, done = arrival(t["download_requested"], REAL_SIZE)
    shift = done - t["download_done"]
    moved = answer | {"download_done"}
    if path == "today":
        moved = set(t) - {"window_shown", "download_requested", "verifying"}
    out = {k: round(v + shift, 1) if k in moved else v for k, v in t.items()}
    out["verifying"] = round(transferred, 1)
    return out


def cell(value: float | None) -> str:
    return "—" if value is None else f"{value:8.1f}"


def table(results: dict[str, dict[str, Any]], computed: dict[str, dict[str, Any]]) -> str:
    paths = list(results)
    head = "".join(f"{p:>10}" for p in paths) + "".join(f"{p + ' (c)':>14}" for p in computed)
    lines = [f"{'seconds from start':38}{head}"]
    for key, label in MILESTONES:
        row = "".join(f"{cell(results[p]['t'].get(key)):>10}" for p in paths)
        row += "".join(f"{cell(computed[p].get(key)):>14}" for p in computed)
        lines.append(f"{label:38}{row}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate-mbps", type=float, default=50.0, help="the hub's speed, Mbit/s")
    parser.add_argument("--line-mbps", type=float, default=50.0, help="for the computed column")
    parser.add_argument("--language", choices=["both", "fr", "en"], default="both")
    parser.add_argument(
        "--paths", default="today,new,starter", help="which, in this order (starter: Download both)"
    )
    parser.add_argument("--tokens", type=int, default=0, help="answer length (0: the app's)")
    parser.add_argument("--timeout", type=float, default=1500.0, help="per path, seconds")
    parser.add_argument(
        "--skip-vectors", action="store_true", help="end a path without waiting for vectors"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=["today", "new", "starter"], help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from bench.first_answer_drive import drive

        result = drive(args.child, folders(args.language), QUERIES[args.language], args)
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0

    from support.hub_server import hub_server

    model = gemma_test_model()
    for folder in folders(args.language):  # fetched and read once before any clock starts
        for page in folder.rglob("*"):
            if page.is_file():
                page.read_bytes()
    # Python's bytecode and the libraries in the page cache, so the first path starts no colder.
    warm = "import lanterne.desktop.main_window, lanterne.desktop.first_run"
    subprocess.run([sys.executable, "-c", warm], check=True)
    results: dict[str, dict[str, Any]] = {}
    with hub_server() as hub:
        hub.add(REPO, FILE, model)
        hub.add(STARTER_REPO, STARTER_FILE, model)  # the same test model stands in for both
        hub.rate = int(args.rate_mbps * 1e6 / 8)
        for path in args.paths.split(","):
            results[path] = run_path(path, hub.url, args)
    check_rate = hash_rate(model)
    computed = {p: computed_real(r, p, args.line_mbps, check_rate) for p, r in results.items()}
    report = {
        "rate_mbps": args.rate_mbps,
        "model_bytes": model.stat().st_size,
        "language": args.language,
        "clicking_s": 0,
        "paths": results,
        "computed_real_file": {
            "line_mbps": args.line_mbps,
            "check_bytes_per_s": round(check_rate),
            "bytes": REAL_SIZE,
            "note": "computed from the measured run, not measured; model load time not scaled",
            "t": computed,
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    size_mb = model.stat().st_size / 1e6
    print(
        f"hub {args.rate_mbps:g} Mbit/s, test model {size_mb:.0f} MB; handbook {args.language}; "
        f"(c) = computed for the real {REAL_SIZE / 1e9:.2f} GB file at {args.line_mbps:g} Mbit/s"
    )
    print(table(results, computed))
    for path, r in results.items():
        print(
            f"{path}: {r['documents']} documents, {r['chunks']} passages; "
            f"answer {len(r['answer'])} characters{' (error)' if r['answer_error'] else ''}; "
            f"other processes used {r['foreign_cores']:.2f} cores meanwhile"
        )
        t = r["t"]
        print(
            f"  after the model arrived: loaded at {t.get('model_loaded')}, sources at "
            f"{t.get('sources_retrieved')}, first token at {t.get('first_token')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
