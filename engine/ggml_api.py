"""The few ggml / gguf C functions llama-cpp-python does not bind, resolved from the very
libraries llama.cpp loaded.

Why not open libggml ourselves: the wheel ships several copies (`libggml-base.so`, `.so.0`),
and a second copy has its own global state (backend registry, buffer types) that llama.cpp
treats as foreign. `dlsym` on libllama's own handle searches the libraries libllama depends on,
so the symbols found are the ones llama.cpp uses. Windows' GetProcAddress does not search
dependencies; there, loading a sibling DLL by name returns the module already in memory.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp import llama_cpp as _bindings

from lanterne.foundation.translation import _

LIB_DIR = Path(llama_cpp.__file__).parent / "lib"
_SIBLINGS = ("ggml-base", "ggml", "ggml-cpu")
_cache: dict[str, Any] = {}
# How ggml names a dynamic backend's library (ggml-backend-reg.cpp): libggml-cuda.so,
# libggml-cpu-haswell.so; ggml-cuda.dll on Windows (macOS uses .so too).
BACKEND_PREFIX = "ggml-" if sys.platform == "win32" else "libggml-"
BACKEND_SUFFIX = ".dll" if sys.platform == "win32" else ".so"


def _sibling(name: str) -> ctypes.CDLL | None:
    if sys.platform == "win32":
        candidates = [LIB_DIR / f"{name}.dll"]
    elif sys.platform == "darwin":
        candidates = [LIB_DIR / f"lib{name}.dylib"]
    else:
        candidates = [LIB_DIR / f"lib{name}.so"]
    for path in candidates:
        if path.exists():
            return ctypes.CDLL(str(path))
    return None


def function(name: str, restype: Any, argtypes: list[Any]) -> Callable[..., Any]:
    """A C function of llama.cpp's ggml, typed; raises AttributeError if absent."""
    if name in _cache:
        return _cache[name]  # type: ignore[no-any-return]
    fn: Any = None
    try:
        fn = getattr(_bindings._lib, name)
    except AttributeError:
        for sibling in _SIBLINGS:
            lib = _sibling(sibling)
            if lib is not None and hasattr(lib, name):
                fn = getattr(lib, name)
                break
    if fn is None:
        raise AttributeError(
            _("llama.cpp's libraries have no function {name}: reinstall Lanterne.").format(
                name=name
            )
        )
    fn.restype = restype
    fn.argtypes = argtypes
    _cache[name] = fn
    return fn  # type: ignore[no-any-return]


_backends_loaded = False


def load_backends() -> None:
    """Register ggml's backends when this llama.cpp was built with dynamic ones (the shipped
    build: ggml picks the CPU variant this processor supports at run time, so the same files
    run on any x86-64). Such a build registers none until asked, and ggml's own search looks
    only beside the executable, not in the wheel's lib folder. A static build has its
    backends already and is left alone."""
    global _backends_loaded
    if _backends_loaded:
        return
    _backends_loaded = True
    from lanterne.engine import llama_log  # "loaded CPU backend from ..." goes to logging

    llama_log.install()
    count = function("ggml_backend_reg_count", ctypes.c_size_t, [])
    if count() == 0:
        _load_dynamic_backends()


def _load_dynamic_backends() -> None:
    """What ggml_backend_load_all would load (every other backend, then one CPU variant), with
    the CPU variant the one engine/cpu_variant.py found to work on this machine rather than
    the one ggml would pick from the features the CPU advertises."""
    from lanterne.engine import cpu_variant

    choice = cpu_variant.current()
    if choice.path is None:  # one CPU library, or nothing could be tried: ggml's own choice
        function("ggml_backend_load_all_from_path", None, [ctypes.c_char_p])(str(LIB_DIR).encode())
        return
    load = function("ggml_backend_load", ctypes.c_void_p, [ctypes.c_char_p])
    prefix, suffix = BACKEND_PREFIX, BACKEND_SUFFIX
    not_backends = {f"{prefix}base{suffix}", f"{prefix[:-1]}{suffix}"}
    for path in sorted(LIB_DIR.glob(f"{prefix}*{suffix}")):  # GPU and BLAS backends first
        if path.name not in not_backends and not path.name.startswith(f"{prefix}cpu"):
            load(str(path).encode())
    load(str(choice.path).encode())


# gguf.h --------------------------------------------------------------------------------------

GGUF_TYPE_ARRAY = 9
GGUF_TYPE_STRING = 8


class GGUFInitParams(ctypes.Structure):
    _fields_ = [("no_alloc", ctypes.c_bool), ("ctx", ctypes.c_void_p)]


_P = ctypes.c_void_p
_I64 = ctypes.c_int64


def gguf_api() -> dict[str, Callable[..., Any]]:
    """The gguf reader functions, bound once."""
    return {
        "init": function("gguf_init_from_file", _P, [ctypes.c_char_p, GGUFInitParams]),
        "free": function("gguf_free", None, [_P]),
        "n_kv": function("gguf_get_n_kv", _I64, [_P]),
        "key": function("gguf_get_key", ctypes.c_char_p, [_P, _I64]),
        "kv_type": function("gguf_get_kv_type", ctypes.c_int, [_P, _I64]),
        "arr_type": function("gguf_get_arr_type", ctypes.c_int, [_P, _I64]),
        "arr_n": function("gguf_get_arr_n", ctypes.c_size_t, [_P, _I64]),
        "arr_data": function("gguf_get_arr_data", _P, [_P, _I64]),
        "arr_str": function("gguf_get_arr_str", ctypes.c_char_p, [_P, _I64, ctypes.c_size_t]),
        "val_data": function("gguf_get_val_data", _P, [_P, _I64]),
        "val_str": function("gguf_get_val_str", ctypes.c_char_p, [_P, _I64]),
        "n_tensors": function("gguf_get_n_tensors", _I64, [_P]),
        "tensor_name": function("gguf_get_tensor_name", ctypes.c_char_p, [_P, _I64]),
        "tensor_ne": function("gguf_get_tensor_ne", ctypes.POINTER(ctypes.c_int64), [_P, _I64]),
        "tensor_size": function("gguf_get_tensor_size", ctypes.c_size_t, [_P, _I64]),
        "tensor_type": function("gguf_get_tensor_type", ctypes.c_int, [_P, _I64]),
    }


# The C type of each scalar gguf_type, in enum order (STRING and ARRAY are handled apart).
GGUF_SCALARS: dict[int, Any] = {
    0: ctypes.c_uint8,
    1: ctypes.c_int8,
    2: ctypes.c_uint16,
    3: ctypes.c_int16,
    4: ctypes.c_uint32,
    5: ctypes.c_int32,
    6: ctypes.c_float,
    7: ctypes.c_bool,
    10: ctypes.c_uint64,
    11: ctypes.c_int64,
    12: ctypes.c_double,
}
