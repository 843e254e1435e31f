"""Where a generated token's time goes between llama.cpp and the consumer of Lanterne's stream.

Each layer (llama_decode, Llama.generate, create_completion, LocalModel.stream, ModelHost.stream)
is timed on its own, so a shortfall against llama-bench can be pinned on one of them.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import llama_cpp

from bench.quiet import ForeignLoad, wait_for_quiet
from lanterne.engine.host import ModelHost
from lanterne.engine.runtime import LocalModel, SamplingParams


def on_model_thread(host: ModelHost, fn: Callable[[], Any]) -> Any:
    return host.submit(fn).result()


def fresh_context(model: LocalModel) -> None:
    """Forget the previous prompt, so the next one is evaluated in full (as in llama-bench).

    Both bookkeepings of the shared context: Lanterne's prompt cache, and the token list that
    llama-cpp-python's own `eval`/`generate` compare against (otherwise they would reuse a
    prefix that Lanterne's loop has since overwritten).
    """
    model.forget_prompt()
    model._llm.reset()  # type: ignore[no-untyped-call]


def breakdown(
    host: ModelHost,
    model: LocalModel,
    prompt: str,
    params: SamplingParams,
    reps: int,
    threshold: float,
    patience: float,
    text: str,
) -> dict[str, dict[str, float]]:
    """tg of each layer under the consumer, peeled off one at a time: medians of undisturbed runs.

    For each layer: `wall`, generated-token decodes over the time from the first item the layer
    yields to its end (as Lanterne's wall figure), and `decode`, the same decodes over their
    time inside llama_decode (llama.cpp's perf counters). All but the first run on the model
    thread, with no queue and no second thread.
    """
    llm = model._llm
    tokens = model.tokenize(prompt)  # what LocalModel.stream evaluates (no BOS)
    options: dict[str, Any] = {
        "top_k": params.top_k,
        "top_p": params.top_p,
        "repeat_penalty": params.repeat_penalty,
        "temp": params.temperature,
    }
    filler = llm.tokenize(text.encode(), add_bos=False) * (1 + params.max_tokens)

    def host_stream() -> Iterator[object]:
        return host.stream(model, prompt, params)

    def local_stream() -> Iterator[object]:
        return model.stream(prompt, params)

    def completion() -> Iterator[object]:
        return iter(
            llm.create_completion(
                tokens,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                top_k=params.top_k,
                repeat_penalty=params.repeat_penalty,
                seed=params.seed,
                stream=True,
            )
        )

    def generate_loop() -> Iterator[int]:
        for produced, token in enumerate(llm.generate(tokens, **options), start=1):
            yield token
            if produced >= params.max_tokens:
                return

    def eval_loop() -> Iterator[int]:
        llm.eval(tokens)
        yield 0
        for token in filler[: params.max_tokens - 1]:
            llm.eval([token])
            llama_cpp.llama_synchronize(llm.ctx)  # as llama-bench does; it ends the perf count
            yield token

    layers: dict[str, Callable[[], Iterator[object]]] = {
        "ModelHost.stream (consumer thread, queue)": host_stream,
        "LocalModel.stream (model thread only)": local_stream,
        "create_completion(stream=True)": completion,
        "Llama.generate (+ sampling)": generate_loop,
        "Llama.eval loop (no sampling)": eval_loop,
    }

    def timed(make: Callable[[], Iterator[object]]) -> tuple[float, float]:
        first = 0.0
        for _item in make():
            if not first:
                first = time.perf_counter()
        end = time.perf_counter()
        perf = llama_cpp.llama_perf_context(llm.ctx)
        return perf.n_eval / (end - first), perf.n_eval * 1000.0 / perf.t_eval_ms

    def prepare() -> None:
        fresh_context(model)
        llama_cpp.llama_perf_context_reset(llm.ctx)

    walls: dict[str, list[float]] = {name: [] for name in layers}
    decodes: dict[str, list[float]] = {name: [] for name in layers}
    attempts = 0
    while min(len(v) for v in walls.values()) < reps and attempts < 4 * reps:
        attempts += 1
        for name, make in layers.items():
            wait_for_quiet(threshold, patience)
            on_model_thread(host, prepare)
            load = ForeignLoad()
            if make is host_stream:
                wall, decode = timed(make)  # consumed here, on this thread, like Lanterne's UI
            else:
                wall, decode = on_model_thread(host, functools.partial(timed, make))
            if load.cores() < threshold:
                walls[name].append(wall)
                decodes[name].append(decode)
    return {
        name: {"wall": statistics.median(walls[name]), "decode": statistics.median(decodes[name])}
        for name in layers
        if walls[name]
    }


# --- Driver -------------------------------------------------------------------------------
