"""Keeping chosen tensors (MoE experts) in RAM: llama.cpp's `-ot exps=CPU`, from Python.

llama-cpp-python 0.3.36 declares `llama_model_params.tensor_buft_overrides` but never sets it,
and `Llama` builds its model params inside its constructor from `llama_model_default_params()`.
The only clean hook is that call: `overriding_tensors` wraps it for the duration of one load so
the params it returns carry our NULL-terminated override array. The array and its strings must
outlive the model (llama.cpp keeps the pointers), so the caller keeps the returned handle.
This is worth proposing upstream as a `tensor_buft_overrides` argument of `Llama`.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llama_cpp import llama_cpp as bindings

from lanterne.engine import ggml_api
from lanterne.foundation.translation import _

_DEV_CPU = 0
_lock = threading.Lock()  # the wrapped function is module-global: one load at a time


class TensorBuftOverride(ctypes.Structure):
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


def expert_patterns(layers: tuple[int, ...]) -> list[str]:
    """Regexes (llama.cpp matches with std::regex_search) for the expert FFN of `layers`."""
    if not layers:
        return []
    alternatives = "|".join(str(n) for n in layers)
    return [rf"^blk\.({alternatives})\.ffn_.*_exps\."]


def cpu_buffer_type() -> int:
    """The CPU buffer type of the ggml llama.cpp itself loaded (see ggml_api for why)."""
    by_type = ggml_api.function("ggml_backend_dev_by_type", ctypes.c_void_p, [ctypes.c_int])
    buft = ggml_api.function("ggml_backend_dev_buffer_type", ctypes.c_void_p, [ctypes.c_void_p])
    device = by_type(_DEV_CPU)
    if not device:
        raise RuntimeError(_("llama.cpp reports no CPU device: reinstall Lanterne."))
    pointer = buft(device)
    if not pointer:
        raise RuntimeError(
            _("llama.cpp's CPU device has no memory buffer type: reinstall Lanterne.")
        )
    return int(pointer)


@contextmanager
def overriding_tensors(patterns: list[str]) -> Iterator[Any]:
    """Within this block, a new `Llama` places tensors matching `patterns` in RAM.

    Yields the ctypes array to keep alive for as long as the model lives.
    """
    if not patterns:
        yield None
        return
    cpu = cpu_buffer_type()
    array = (TensorBuftOverride * (len(patterns) + 1))()
    keep = [p.encode() for p in patterns]
    for i, pattern in enumerate(keep):
        array[i].pattern = pattern
        array[i].buft = cpu
    array[len(patterns)].pattern = None  # the NULL terminator llama.cpp stops at
    array[len(patterns)].buft = None
    original = bindings.llama_model_default_params

    def with_overrides() -> Any:
        params = original()
        params.tensor_buft_overrides = ctypes.cast(array, ctypes.c_void_p)
        return params

    with _lock:
        bindings.llama_model_default_params = with_overrides
        try:
            yield (array, keep)
        finally:
            bindings.llama_model_default_params = original
