"""What every tiny architecture model shares: seeded random weights with a constant residual
dimension, the real vocabulary and template, and writing the file.

numpy shapes are ggml shapes reversed: a ggml {n_in, n_out} matrix is (n_out, n_in) here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np
import numpy.typing as npt

from support import llama_sources, real_vocab

F32 = npt.NDArray[np.float32]
F16 = npt.NDArray[np.float16]
Tensor = F32 | F16
# llama.cpp's log line for a tensor kept in RAM by an override: the CPU's buffer, or on a GPU
# build the GPU backend's pinned host buffer (CUDA_Host), which is RAM too.
OVERRIDDEN = re.compile(r"buffer type overridden to (CPU\S*|\S+_Host)")


@dataclass(frozen=True)
class TinySpec:
    """One architecture's tiny model: where its tokenizer and template come from."""

    key: str  # how tests name it ("gpt-oss", "qwen3moe-thinking", ...)
    arch: gguf.MODEL_ARCH
    template: str  # file name in llama.cpp's models/templates, without .jinja
    vocab: Callable[[], real_vocab.Vocab]  # the tokenizer, with the family's control tokens
    end_of_turn: str  # the token text that ends an answer
    real_tokenizer: bool  # False: a shipped tokenizer stands in for one llama.cpp lacks
    write: Callable[[Path, int], Path]  # (path, seed) -> path

    @property
    def arch_name(self) -> str:
        return gguf.MODEL_ARCH_NAMES[self.arch]


class Weights:
    """Seeded random tensors; residual dimension 0 stays 1 (no layer writes it), which keeps
    sampling on plain text (see `real_vocab.output_rows`)."""

    def __init__(self, seed: int, width: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.width = width

    def normal(self, *shape: int, std: float = 0.05) -> F32:
        return self.rng.normal(0.0, std, size=shape).astype(np.float32)

    def half(self, *shape: int, std: float = 0.05) -> F16:
        return self.normal(*shape, std=std).astype(np.float16)

    def norm(self, *shape: int) -> F32:
        return (1.0 + self.normal(*shape, std=0.02)).astype(np.float32)

    def into_residual(self, *shape: int, std: float = 0.05) -> F16:
        """A projection onto the residual stream (its output axis is the first numpy axis of
        the last two): row 0 is zero, so dimension 0 stays constant."""
        matrix = self.normal(*shape, std=std)
        matrix[..., 0, :] = 0.0
        return matrix.astype(np.float16)

    def router(self, n_expert: int) -> F32:
        gate = self.normal(n_expert, self.width, std=0.5)
        gate[:, 0] = 0.0  # route on content, not on the constant dimension
        return gate

    def embeddings(self, vocab: real_vocab.Vocab) -> F16:
        table = self.normal(vocab.size, self.width, std=0.1)
        table[:, 0] = 1.0
        return table.astype(np.float16)

    def output(self, vocab: real_vocab.Vocab) -> F16:
        return real_vocab.output_rows(vocab, self.width, self.rng).astype(np.float16)

    def output_norm(self) -> F32:
        weights = self.norm(self.width)
        weights[0] = 1.0
        return weights


def name(
    arch: gguf.MODEL_ARCH,
    kind: gguf.MODEL_TENSOR,
    layer: int | None = None,
    suffix: str = ".weight",
) -> str:
    """The tensor's GGUF name, checked against what llama.cpp's gguf-py lists for `arch`."""
    if kind not in gguf.MODEL_TENSORS[arch]:
        raise AssertionError(f"{kind!r} is not a {gguf.MODEL_ARCH_NAMES[arch]} tensor")
    text = gguf.TENSOR_NAMES[kind]
    return (text.format(bid=layer) if layer is not None else text) + suffix


def write_file(
    path: Path,
    spec: TinySpec,
    describe: Callable[[gguf.GGUFWriter], None],
    tensors: list[tuple[str, Tensor]],
) -> Path:
    """Header (`describe` adds the architecture's keys), tokenizer, template, tensors."""
    writer = gguf.GGUFWriter(path, spec.arch_name)
    try:
        writer.add_name(f"Tiny {spec.key} (random weights)")
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        describe(writer)
        real_vocab.add_to_writer(writer, spec.vocab(), llama_sources.chat_template(spec.template))
        for tensor_name, array in tensors:
            writer.add_tensor(tensor_name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path
