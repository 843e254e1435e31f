"""What a GGUF model is and how much memory each part needs, read from its header only.

The planner must know, before anything is loaded, how many bytes the attention, the dense or
shared FFN and the experts of each layer take, and how large the KV cache will be. The header
holds all of it; the weights are never read (the file is memory-mapped and only the header pages
are touched). Split models (`name-00001-of-00003.gguf`) are summed over all their files.
"""

from __future__ import annotations

import ctypes
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanterne.engine import ggml_api
from lanterne.engine.errors import ModelLoadError
from lanterne.foundation.translation import _

GROUPS = ("embeddings", "attention", "dense_ffn", "expert_ffn", "other")
_BLOCK = re.compile(r"^blk\.(\d+)\.(.+)$")
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$")
_EMBEDDINGS = ("token_embd", "output.", "position_embd", "token_types", "rope_freqs")


def tensor_group(name: str) -> tuple[int | None, str]:
    """(layer or None, group) of a tensor, by llama.cpp's naming (`blk.N.ffn_up_exps.weight`)."""
    block = _BLOCK.match(name)
    if block is None:
        return None, "embeddings" if name.startswith(_EMBEDDINGS) else "other"
    layer, rest = int(block.group(1)), block.group(2)
    if "_exps" in rest:  # ffn_{gate,up,down}_exps, ffn_gate_up_exps, with weights and biases
        return layer, "expert_ffn"
    if rest.startswith(("attn_", "post_attention_norm")):
        return layer, "attention"
    if rest.startswith(("ffn_", "exp_probs_b", "post_ffw_norm")):  # dense, shared experts, router
        return layer, "dense_ffn"
    return layer, "other"


@dataclass(frozen=True)
class LayerBytes:
    attention: int = 0
    dense_ffn: int = 0
    expert_ffn: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.attention + self.dense_ffn + self.expert_ffn + self.other


ENCODER_ARCHITECTURES = frozenset(
    {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "modern-bert", "neo-bert", "eurobert"}
)


@dataclass(frozen=True)
class GGUFSummary:
    path: Path
    files: tuple[Path, ...]
    architecture: str
    name: str
    n_params: int
    n_layer: int
    n_expert: int
    n_expert_used: int
    context_length: int
    n_embd: int
    n_head: int
    n_head_kv: tuple[int, ...]  # per layer (most models repeat one value)
    head_dim_k: int
    head_dim_v: int
    n_vocab: int
    chat_template: str | None
    groups: dict[str, int]
    layers: tuple[LayerBytes, ...]
    file_bytes: int
    embedding_bytes: int = 0  # token_embd: llama.cpp keeps it in RAM
    output_bytes: int = 0  # the output head (the embedding again when tied), offloaded last
    pooling_type: int | None = None  # set by embedding models (1 mean, 2 cls, 3 last)
    file_type: int | None = None  # general.file_type, llama.cpp's quantization (15: Q4_K_M)

    @property
    def is_embedding_model(self) -> bool:
        """An encoder, or a decoder converted for embeddings (Qwen3-Embedding): not for chat."""
        return bool(self.pooling_type) or self.architecture in ENCODER_ARCHITECTURES

    @property
    def is_moe(self) -> bool:
        return self.n_expert > 1

    @property
    def weight_bytes(self) -> int:
        return sum(self.groups.values())

    def kv_bytes(self, n_ctx: int, bytes_per_element: float = 2.0) -> int:
        """The KV cache for `n_ctx` tokens (f16 by default: 2 bytes an element)."""
        per_token = sum(n * (self.head_dim_k + self.head_dim_v) for n in self.n_head_kv)
        return int(per_token * n_ctx * bytes_per_element)

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "architecture": self.architecture,
            "name": self.name,
            "n_params": self.n_params,
            "n_layer": self.n_layer,
            "n_expert": self.n_expert,
            "n_expert_used": self.n_expert_used,
            "context_length": self.context_length,
            "groups": dict(self.groups),
            "file_bytes": self.file_bytes,
        }


GGUF_MAGIC = b"GGUF"


def check_gguf_file(path: Path) -> None:
    """Fail early with a precise reason instead of llama.cpp's generic load failure."""
    if not path.exists():
        raise ModelLoadError(_("Model file not found: {path}").format(path=path))
    if not path.is_file():
        raise ModelLoadError(_("The model path is not a file: {path}").format(path=path))
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelLoadError(
            _("The model file cannot be read: {error}").format(error=exc.strerror or exc)
        ) from exc
    if magic != GGUF_MAGIC:
        raise ModelLoadError(
            _(
                "{name} is not a GGUF model file (it does not start with the GGUF signature)."
            ).format(name=path.name)
        )


def split_files(path: Path) -> tuple[Path, ...]:
    """All files of a split model, given any one of them; a single-file model is itself."""
    match = _SPLIT.match(path.name)
    if match is None:
        return (path,)
    count = int(match.group("count"))
    files = tuple(
        path.with_name(f"{match.group('stem')}-{i:05d}-of-{count:05d}.gguf")
        for i in range(1, count + 1)
    )
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise ModelLoadError(
            _("This model is split into {count} files and some are missing: {names}").format(
                count=count, names=", ".join(missing)
            )
        )
    return files


@dataclass(frozen=True)
class TensorInfo:
    name: str
    n_elements: int
    n_bytes: int


def _read(path: Path) -> tuple[dict[str, Any], dict[str, int], list[TensorInfo]]:
    """(metadata, array lengths, tensors) through ggml's own gguf reader, header only.

    Long string arrays (the vocabulary) are counted, not copied: that is what makes reading a
    header take milliseconds rather than seconds.
    """
    from lanterne.engine import llama_log

    llama_log.install()  # ggml reports parse errors through the same log
    llama_log.take_last_problem()
    api = ggml_api.gguf_api()
    ctx = api["init"](str(path).encode(), ggml_api.GGUFInitParams(no_alloc=True, ctx=None))
    if not ctx:
        reason = llama_log.take_last_problem()
        message = _("{name} is damaged or not a complete GGUF file.").format(name=path.name)
        raise ModelLoadError(f"{message} ({reason})" if reason else message)
    try:
        metadata: dict[str, Any] = {}
        lengths: dict[str, int] = {}
        for i in range(api["n_kv"](ctx)):
            key = api["key"](ctx, i).decode("utf-8", "replace")
            kind = api["kv_type"](ctx, i)
            if kind == ggml_api.GGUF_TYPE_STRING:
                metadata[key] = api["val_str"](ctx, i).decode("utf-8", "replace")
            elif kind == ggml_api.GGUF_TYPE_ARRAY:
                n = api["arr_n"](ctx, i)
                lengths[key] = n
                sub = api["arr_type"](ctx, i)
                if sub == ggml_api.GGUF_TYPE_STRING and n <= 256:
                    metadata[key] = [
                        api["arr_str"](ctx, i, j).decode("utf-8", "replace") for j in range(n)
                    ]
                elif sub in ggml_api.GGUF_SCALARS and n <= 4096:
                    ctype = ggml_api.GGUF_SCALARS[sub]
                    data = ctypes.cast(api["arr_data"](ctx, i), ctypes.POINTER(ctype))
                    metadata[key] = [data[j] for j in range(n)]
            elif kind in ggml_api.GGUF_SCALARS:
                ctype = ggml_api.GGUF_SCALARS[kind]
                metadata[key] = ctypes.cast(api["val_data"](ctx, i), ctypes.POINTER(ctype))[0]
        tensors = []
        for t in range(api["n_tensors"](ctx)):
            ne = api["tensor_ne"](ctx, t)
            tensors.append(
                TensorInfo(
                    name=api["tensor_name"](ctx, t).decode("utf-8", "replace"),
                    n_elements=math.prod(ne[d] for d in range(4)),
                    n_bytes=int(api["tensor_size"](ctx, t)),
                )
            )
        return metadata, lengths, tensors
    finally:
        api["free"](ctx)


def read_summary(path: Path) -> GGUFSummary:
    """Summarise a GGUF model from its header(s); raises ModelLoadError with a reason."""
    check_gguf_file(path)
    files = split_files(path)
    metadata, lengths, tensors = _read(files[0])
    for extra in files[1:]:
        tensors += _read(extra)[2]
    arch = str(metadata.get("general.architecture", "unknown"))

    def number(key: str, default: int = 0) -> int:
        value = metadata.get(f"{arch}.{key}", default)
        if isinstance(value, list):
            return int(max(value)) if value else default
        return int(value)

    n_layer = number("block_count")
    n_head = number("attention.head_count")
    raw_kv = metadata.get(f"{arch}.attention.head_count_kv", n_head)
    n_head_kv = (
        tuple(int(v) for v in raw_kv)
        if isinstance(raw_kv, list)
        else tuple(int(raw_kv) for _i in range(n_layer))
    )
    n_embd = number("embedding_length")
    head_dim = n_embd // n_head if n_head else 0
    n_vocab = lengths.get("tokenizer.ggml.tokens") or number("vocab_size")

    groups = dict.fromkeys(GROUPS, 0)
    per_layer: list[dict[str, int]] = [dict.fromkeys(GROUPS[1:], 0) for _i in range(n_layer)]
    n_params = 0
    embedding_bytes = sum(t.n_bytes for t in tensors if t.name.startswith("token_embd."))
    output_bytes = sum(t.n_bytes for t in tensors if t.name.startswith("output."))
    for tensor in tensors:
        layer, group = tensor_group(tensor.name)
        groups[group] += tensor.n_bytes
        n_params += tensor.n_elements
        if layer is not None and layer < n_layer and group != "embeddings":
            per_layer[layer][group] += tensor.n_bytes
    if n_layer and not any(sum(layer.values()) for layer in per_layer):
        raise ModelLoadError(
            _("{name} lists no layer weights: the file is incomplete.").format(name=path.name)
        )
    template = metadata.get("tokenizer.chat_template")
    return GGUFSummary(
        path=path,
        files=files,
        architecture=arch,
        name=str(metadata.get("general.name") or path.stem),
        n_params=n_params,
        n_layer=n_layer,
        n_expert=number("expert_count"),
        n_expert_used=number("expert_used_count"),
        context_length=number("context_length"),
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim_k=number("attention.key_length", head_dim),
        head_dim_v=number("attention.value_length", head_dim),
        n_vocab=n_vocab,
        chat_template=str(template) if template is not None else None,
        groups=groups,
        layers=tuple(LayerBytes(**layer) for layer in per_layer),
        file_bytes=sum(f.stat().st_size for f in files),
        embedding_bytes=embedding_bytes,
        output_bytes=output_bytes or embedding_bytes,  # tied: llama.cpp duplicates it
        pooling_type=int(metadata[f"{arch}.pooling_type"])
        if f"{arch}.pooling_type" in metadata
        else None,
        file_type=int(metadata["general.file_type"]) if "general.file_type" in metadata else None,
    )
