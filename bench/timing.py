"""Timing a stream as its consumer (the CLI or the GUI thread) experiences it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from lanterne.engine.host import ModelHost
from lanterne.engine.runtime import LocalModel, SamplingParams


@dataclass(frozen=True)
class StreamTiming:
    ttft_s: float  # request to first piece
    decode_s: float  # first piece to last
    text: str


def timed_stream(
    host: ModelHost, model: LocalModel, prompt: str, params: SamplingParams
) -> StreamTiming:
    start = time.perf_counter()
    first = 0.0
    pieces = []
    for piece in host.stream(model, prompt, params):
        if not first:
            first = time.perf_counter()
        pieces.append(piece)
    end = time.perf_counter()
    first = first or end
    return StreamTiming(ttft_s=first - start, decode_s=end - first, text="".join(pieces))
