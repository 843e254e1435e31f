"""Random-weight mixture-of-experts GGUFs of a *realistic* shape, for speed measurements.

`support.tiny_moe` writes a `qwen3moe` file of a few hundred kilobytes: right for behaviour
tests, useless for timing (every matrix fits in the L1 cache, the kernels never see real
work). This module writes the same architecture at a size whose compute and memory traffic
per token resemble a real MoE checkpoint, quantized as people actually run them.

`QWEN3_30B_A3B_MINI`, the shape the benchmarks use, is Qwen3-30B-A3B scaled down by two in
width and three in depth, keeping its proportions where that matters for the kernels:

============================  =====================  ======================
                              Qwen3-30B-A3B          QWEN3_30B_A3B_MINI
============================  =====================  ======================
hidden size                   2048                   1024
layers                        48                     16
attention heads / KV heads    32 / 4 (GQA 8:1)       16 / 2 (GQA 8:1)
head dim                      128                    128
experts / used per token      128 / 8                32 / 8
expert FFN width              768 (0.375 x hidden)   384 (0.375 x hidden)
vocabulary                    151,936                32,768
weights                       Q4_K_M (typical)       Q4_0 (norms, router F32)
parameters total / active     30.5 B / 3.3 B         0.75 B / 0.26 B
file                          ~18.6 GB               ~420 MB, written in ~2 s
============================  =====================  ======================

Q4_0 rather than Q4_K: K-quants need rows that are multiples of 256 and the expert FFN width
(384) is not; Q4_0 is llama.cpp's other 4-bit CPU workhorse and, like Q4_K, is repacked into
the interleaved AVX2 layout at load, so the file exercises the same kind of kernels.

Quantizing hundreds of millions of random floats with `gguf.quants` takes minutes in numpy, so
the quantized blocks are written *directly*: random 4-bit (or 8-bit) codes and a per-block f16
scale chosen so that each matrix has a standard deviation of about 0.5/sqrt(n_in). The result
is a valid file that llama.cpp loads and runs like any converted model; it says gibberish.

The vocabulary is `support.tiny_moe`'s (all 256 bytes, its merges and the ChatML control tokens,
with the same token ids), padded with filler tokens up to the requested size, and it uses the
same chat template. The output rows of the control tokens are zero, so with greedy sampling
the model never ends its turn by itself: a generation always runs to `max_tokens`.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from dataclasses import asdict, dataclass
from typing import Final

import gguf
import numpy as np
import numpy.typing as npt

from support import tiny_moe
from support.tiny_moe import (
    ARCH,
    ARCH_NAME,
    CHAT_TEMPLATE,
    ENDOFTEXT,
    ENDOFTEXT_TOKEN_ID,
    EOS_TOKEN_ID,
    IM_END,
    IM_START,
    RMS_EPS,
    ROPE_FREQ_BASE,
    TOKENS,
)

MODEL_NAME: Final = "Qwen3-MoE-shaped (random weights)"
CONTROL_TOKENS: Final = (ENDOFTEXT, IM_START, IM_END)

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
_T = gguf.MODEL_TENSOR
_Q = gguf.GGMLQuantizationType

# Bytes per block of 32 weights: an f16 scale, then the codes.
_BLOCK = 32
_BLOCK_BYTES: Final = {_Q.Q4_0: 2 + 16, _Q.Q8_0: 2 + 32}
_FILE_TYPES: Final = {
    _Q.Q4_0: gguf.LlamaFileType.MOSTLY_Q4_0,
    _Q.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
    _Q.F16: gguf.LlamaFileType.MOSTLY_F16,
}
# Standard deviation of the codes, in units of the block scale.
_CODE_STD: Final = {_Q.Q4_0: 4.61, _Q.Q8_0: 73.9}


@dataclass(frozen=True)
class MoeShape:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    experts: int
    experts_used: int
    expert_ffn: int
    vocab: int
    context_length: int = 32768

    def __post_init__(self) -> None:
        if not 0 < self.experts_used <= self.experts:
            raise ValueError("need 0 < experts_used <= experts")
        if self.heads % self.kv_heads:
            raise ValueError("heads must be a multiple of kv_heads")
        if self.vocab < len(TOKENS):
            raise ValueError(f"vocab must hold at least the {len(TOKENS)} base tokens")
        for name in ("hidden", "expert_ffn", "head_dim"):
            if getattr(self, name) % _BLOCK:
                raise ValueError(f"{name} must be a multiple of {_BLOCK} (quantization blocks)")

    @property
    def parameters(self) -> int:
        """Weights in matrices (norms and the router are negligible and left out)."""
        return self.layers * (self.attention_per_layer + 3 * self.experts * self.expert_size) + (
            2 * self.vocab * self.hidden
        )

    @property
    def active_parameters(self) -> int:
        """Matrix weights one token goes through (the embedding row is a lookup, not a matmul)."""
        per_layer = self.attention_per_layer + 3 * self.experts_used * self.expert_size
        return self.layers * per_layer + self.vocab * self.hidden

    @property
    def attention_per_layer(self) -> int:
        q = self.heads * self.head_dim
        kv = self.kv_heads * self.head_dim
        return 2 * q * self.hidden + 2 * kv * self.hidden

    @property
    def expert_size(self) -> int:
        return self.hidden * self.expert_ffn

    def describe(self) -> str:
        return (
            f"qwen3moe hidden {self.hidden}, {self.layers} layers, {self.heads}/{self.kv_heads}"
            f" heads x {self.head_dim}, {self.experts} experts ({self.experts_used} used) of"
            f" FFN {self.expert_ffn}, vocab {self.vocab}: {self.parameters / 1e6:.0f} M"
            f" parameters, {self.active_parameters / 1e6:.0f} M active"
        )


QWEN3_30B_A3B_MINI: Final = MoeShape(
    hidden=1024,
    layers=16,
    heads=16,
    kv_heads=2,
    head_dim=128,
    experts=32,
    experts_used=8,
    expert_ffn=384,
    vocab=32768,
)

# The same proportions, small enough for a unit test (about 1 MB, a few milliseconds).
SMALL: Final = MoeShape(
    hidden=128,
    layers=2,
    heads=4,
    kv_heads=2,
    head_dim=32,
    experts=8,
    experts_used=2,
    expert_ffn=64,
    vocab=1024,
    context_length=4096,
)


def vocabulary(size: int) -> list[str]:
    """`tiny_moe`'s tokens with their ids unchanged, then filler words up to `size`."""
    tokens = list(TOKENS)
    tokens += [tiny_moe._encode(f" w{i}") for i in range(size - len(tokens))]
    if len(set(tokens)) != len(tokens):  # llama.cpp asserts that token texts are unique
        raise AssertionError("duplicate token in the vocabulary")
    return tokens


def _quantized(
    rng: np.random.Generator, shape: tuple[int, ...], qtype: _Q, std: float
) -> tuple[U8 | npt.NDArray[np.float16], _Q]:
    """A random matrix (numpy shape: ..., n_out, n_in) in `qtype`, built block by block."""
    if qtype == _Q.F16:
        return rng.normal(0.0, std, size=shape).astype(np.float16), qtype
    *outer, n_in = shape
    n_blocks = n_in // _BLOCK
    block_bytes = _BLOCK_BYTES[qtype]
    rows = int(np.prod(outer))
    data = np.frombuffer(rng.bytes(rows * n_blocks * block_bytes), dtype=np.uint8).copy()
    blocks = data.reshape(rows, n_blocks, block_bytes)
    # Random codes are already uniform over their range; only the scale needs setting.
    scale = np.float16(std / _CODE_STD[qtype])
    blocks[:, :, :2] = np.frombuffer(scale.tobytes(), dtype=np.uint8)
    return data.reshape(*outer, n_blocks * block_bytes), qtype


def write_moe_gguf(
    path: pathlib.Path,
    shape: MoeShape = QWEN3_30B_A3B_MINI,
    *,
    qtype: gguf.GGMLQuantizationType = _Q.Q4_0,
    seed: int = 0,
) -> pathlib.Path:
    """Write a random-weight `qwen3moe` GGUF of `shape` to `path`; return `path`.

    Matrices are in `qtype` (Q4_0, Q8_0 or F16), norms and the router in F32, as in a converted
    and quantized real model. Deterministic per `seed`.
    """
    if qtype not in _FILE_TYPES:
        raise ValueError(f"unsupported qtype {qtype!r}: use Q4_0, Q8_0 or F16")
    rng = np.random.default_rng(seed)
    s = shape
    d, d_q, d_kv = s.hidden, s.heads * s.head_dim, s.kv_heads * s.head_dim
    tokens = vocabulary(s.vocab)

    def matrix(*numpy_shape: int) -> tuple[U8 | npt.NDArray[np.float16], _Q]:
        # numpy shapes are ggml shapes reversed: a ggml {n_in, n_out} matrix is (n_out, n_in).
        return _quantized(rng, numpy_shape, qtype, std=0.5 / float(np.sqrt(numpy_shape[-1])))

    def norm(size: int) -> F32:
        return (1.0 + rng.normal(0.0, 0.02, size=size)).astype(np.float32)

    output, output_type = matrix(s.vocab, d)
    for token_id in (tiny_moe.ENDOFTEXT_TOKEN_ID, tiny_moe.IM_START_TOKEN_ID, EOS_TOKEN_ID):
        output[token_id] = 0  # a zero row: logit 0, below the best of thousands of random ones

    tensors: list[tuple[str, npt.NDArray[np.generic], _Q | None]] = [
        (tiny_moe._tensor_name(_T.TOKEN_EMBD), *matrix(s.vocab, d)),
        (tiny_moe._tensor_name(_T.OUTPUT_NORM), norm(d), None),
        (tiny_moe._tensor_name(_T.OUTPUT), output, output_type),
    ]
    for il in range(s.layers):

        def name(kind: gguf.MODEL_TENSOR, layer: int = il) -> str:
            return tiny_moe._tensor_name(kind, layer)

        router = rng.normal(0.0, 1.0 / np.sqrt(d), size=(s.experts, d)).astype(np.float32)
        tensors += [
            (name(_T.ATTN_NORM), norm(d), None),
            (name(_T.ATTN_Q), *matrix(d_q, d)),
            (name(_T.ATTN_K), *matrix(d_kv, d)),
            (name(_T.ATTN_V), *matrix(d_kv, d)),
            (name(_T.ATTN_Q_NORM), norm(s.head_dim), None),
            (name(_T.ATTN_K_NORM), norm(s.head_dim), None),
            (name(_T.ATTN_OUT), *matrix(d, d_q)),
            (name(_T.FFN_NORM), norm(d), None),
            (name(_T.FFN_GATE_INP), router, None),
            (name(_T.FFN_GATE_EXP), *matrix(s.experts, s.expert_ffn, d)),
            (name(_T.FFN_UP_EXP), *matrix(s.experts, s.expert_ffn, d)),
            (name(_T.FFN_DOWN_EXP), *matrix(s.experts, d, s.expert_ffn)),
        ]

    writer = gguf.GGUFWriter(path, ARCH_NAME)
    try:
        writer.add_name(MODEL_NAME)
        writer.add_file_type(_FILE_TYPES[qtype])
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        writer.add_context_length(s.context_length)
        writer.add_embedding_length(d)
        writer.add_block_count(s.layers)
        writer.add_feed_forward_length(s.expert_ffn * s.experts_used)
        writer.add_expert_feed_forward_length(s.expert_ffn)
        writer.add_expert_count(s.experts)
        writer.add_expert_used_count(s.experts_used)
        writer.add_head_count(s.heads)
        writer.add_head_count_kv(s.kv_heads)
        writer.add_key_length(s.head_dim)
        writer.add_value_length(s.head_dim)
        writer.add_layer_norm_rms_eps(RMS_EPS)
        writer.add_rope_freq_base(ROPE_FREQ_BASE)

        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("qwen2")
        writer.add_token_list(tokens)
        writer.add_token_types(
            [
                gguf.TokenType.CONTROL if t in CONTROL_TOKENS else gguf.TokenType.NORMAL
                for t in tokens
            ]
        )
        writer.add_token_merges(tiny_moe._TOKEN_MERGES)
        writer.add_bos_token_id(ENDOFTEXT_TOKEN_ID)
        writer.add_eos_token_id(EOS_TOKEN_ID)
        writer.add_pad_token_id(ENDOFTEXT_TOKEN_ID)
        writer.add_add_bos_token(False)
        writer.add_chat_template(CHAT_TEMPLATE)

        for tensor_name, array, raw_dtype in tensors:
            writer.add_tensor(tensor_name, array, raw_dtype=raw_dtype)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path


def cached_moe_gguf(
    directory: pathlib.Path,
    shape: MoeShape = QWEN3_30B_A3B_MINI,
    *,
    qtype: gguf.GGMLQuantizationType = _Q.Q4_0,
    seed: int = 0,
) -> pathlib.Path:
    """The file for (shape, qtype, seed) in `directory`, written the first time only."""
    key = json.dumps([asdict(shape), qtype.name, seed, ARCH.name], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    path = directory / f"qwen3moe-random-{qtype.name.lower()}-{digest}.gguf"
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        write_moe_gguf(partial, shape, qtype=qtype, seed=seed)
        partial.replace(path)
    return path
