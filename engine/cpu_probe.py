"""The child process behind engine/cpu_variant.py: run one CPU variant of llama.cpp, or read
every variant's score, where a crash costs nothing but this process.

    python -m lanterne.engine.cpu_probe --scores FILE...   -> {"libggml-cpu-x64.so": 10, ...}
    python -m lanterne.engine.cpu_probe --variant FILE     -> exit 0 when it embeds soundly

A frozen app has no `-m`: there the app's own executable runs it (`lanterne --cpu-probe ...`,
core/launch.py).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

from lanterne.engine.cpu_variant import FAULT_ENV, VARIANT_ENV, variant_name
from lanterne.foundation.translation import _

# Long enough that the matrix products take the batched paths an answer's prompt takes.
SAMPLE = (
    "Le serveur DHCP attribue automatiquement les adresses IP aux postes du réseau local ; "
    "the backup script copies the home directories to the external drive every night."
)


def scores(files: list[str]) -> dict[str, int]:
    found = {}
    for file in files:
        try:
            lib = ctypes.CDLL(file)
            score = lib.ggml_backend_score
            score.restype = ctypes.c_int
            found[Path(file).name] = int(score())
        except (OSError, AttributeError):
            found[Path(file).name] = 0
    return found


def run_variant(file: str) -> int:
    os.environ[VARIANT_ENV] = file  # ggml_api.load_backends() loads exactly this one
    from lanterne.engine import builtin_embedder
    from lanterne.engine.embedder import Embedder

    embedder = Embedder(builtin_embedder.shipped_path(), n_threads=2, gpu=False)
    if variant_name(Path(file)) in os.environ.get(FAULT_ENV, "").split(","):
        os.kill(os.getpid(), signal.SIGILL)  # as a CPU without the instructions would
    vectors = embedder.embed_documents([SAMPLE, SAMPLE[:60]])
    embedder.close()
    norms = np.linalg.norm(vectors, axis=1)
    if not np.all(np.isfinite(vectors)) or not np.allclose(norms, 1.0, atol=1e-3):
        print(_("its vectors are not sound"), file=sys.stderr)
        return 1
    if float(vectors[0] @ vectors[1]) < 0.5:  # one passage and its beginning: close
        print(_("its vectors do not match their text"), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lanterne.engine.cpu_probe")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--scores", nargs="+", metavar="FILE")
    group.add_argument("--variant", metavar="FILE")
    args = parser.parse_args(argv)
    if args.scores:
        print(json.dumps(scores(args.scores)))
        return 0
    return run_variant(args.variant)


if __name__ == "__main__":
    raise SystemExit(main())
