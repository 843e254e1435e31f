"""A tiny, random-weight mixture-of-experts GGUF, written on the spot for tests.

Lanterne runs mixture-of-experts models with llama.cpp, and much of the engine only makes sense
with a real MoE checkpoint: expert tensors to place, a router, a chat template to render, a
tokenizer that must round-trip French text. Tests cannot download a model, and no real MoE GGUF
is small enough to ship, so this module *writes* one with the `gguf` package: a `qwen3moe`
model (the architecture of Qwen3-30B-A3B) with a 64-wide residual stream, 4 experts of which 2
are used per token, and a self-made byte-level BPE vocabulary of a few hundred tokens. The whole
file is a few hundred kilobytes and is written in milliseconds, so each test can make its own.

The weights are random (seeded, hence reproducible), so what the model says is gibberish, but
llama.cpp loads it through exactly the same code paths as a real Qwen3 MoE file and it generates
at full speed. Two details keep tests predictable:

* The vocabulary holds all 256 bytes (GPT-2 byte-to-unicode mapping, `tokenizer.ggml.pre` =
  "qwen2"), a few merges for common pairs, and the ChatML control tokens. Any UTF-8 text
  tokenizes and detokenizes back to itself.
* The weights are shaped so that sampling practically never picks a control token (so no early
  end of generation) nor a byte outside printable ASCII: residual dimension 0 carries a constant
  that no layer writes to, and the output rows of those tokens point against it. A test that
  needs the model to stop can still force it with `logit_bias={EOS_TOKEN_ID: 100.0}`.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from typing import Final

import gguf
import numpy as np
import numpy.typing as npt

ARCH: Final = gguf.MODEL_ARCH.QWEN3MOE
ARCH_NAME: Final = gguf.MODEL_ARCH_NAMES[ARCH]
MODEL_NAME: Final = "Tiny MoE (random weights)"

EMBEDDING_LENGTH: Final = 64
HEAD_COUNT: Final = 4
HEAD_COUNT_KV: Final = 2
HEAD_DIM: Final = EMBEDDING_LENGTH // HEAD_COUNT
EXPERT_FEED_FORWARD_LENGTH: Final = 32
RMS_EPS: Final = 1e-6
ROPE_FREQ_BASE: Final = 1_000_000.0

ENDOFTEXT: Final = "<|endoftext|>"
IM_START: Final = "<|im_start|>"
IM_END: Final = "<|im_end|>"

# Common pairs of English and French text, merged in this order ("_" stands for a space; the
# left part of each merge must already be a token).
_MERGES: Final = (
    "e+s _+d _+l e+n o+u _+t t+h _+a e+r r+e o+n i+n a+n _t+h _th+e _d+e l+e _l+e _+p _+c"
    " _+s i+t a+i q+u _+e _e+s _es+t in+g o+r a+t"
)

CHAT_TEMPLATE: Final = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '')"
    " + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- endif -%}"
)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


_BYTE_TO_CHAR: Final = _bytes_to_unicode()


def _encode(text: str) -> str:
    return "".join(_BYTE_TO_CHAR[b] for b in text.encode("utf-8"))


def _vocabulary(
    extra_special: Sequence[str] = (),
) -> tuple[list[str], list[gguf.TokenType], list[str], list[bool]]:
    """Tokens, their types, the merges, and whether sampling should favour each token; the
    `extra_special` control tokens come last, after the ChatML ones."""
    tokens = [_BYTE_TO_CHAR[b] for b in range(256)]
    favoured = [0x20 <= b <= 0x7E for b in range(256)]
    merges: list[str] = []
    for merge in _MERGES.split():
        left, right = merge.replace("_", " ").split("+")
        merges.append(f"{_encode(left)} {_encode(right)}")
        tokens.append(_encode(left + right))
        favoured.append(True)
    types = [gguf.TokenType.NORMAL] * len(tokens)
    for special in (ENDOFTEXT, IM_START, IM_END, *extra_special):
        tokens.append(special)
        types.append(gguf.TokenType.CONTROL)
        favoured.append(False)
    if len(set(tokens)) != len(tokens):  # llama.cpp asserts that token texts are unique
        raise AssertionError("duplicate token in the tiny vocabulary")
    return tokens, types, merges, favoured


TOKENS, _TOKEN_TYPES, _TOKEN_MERGES, _FAVOURED = _vocabulary()
VOCAB_SIZE: Final = len(TOKENS)
ENDOFTEXT_TOKEN_ID: Final = TOKENS.index(ENDOFTEXT)
IM_START_TOKEN_ID: Final = TOKENS.index(IM_START)
EOS_TOKEN_ID: Final = TOKENS.index(IM_END)

F32 = npt.NDArray[np.float32]
F16 = npt.NDArray[np.float16]
_T = gguf.MODEL_TENSOR


def _tensor_name(kind: gguf.MODEL_TENSOR, layer: int | None = None) -> str:
    if kind not in gguf.MODEL_TENSORS[ARCH]:
        raise AssertionError(f"{kind!r} is not a {ARCH_NAME} tensor")
    name = gguf.TENSOR_NAMES[kind]
    return (name.format(bid=layer) if layer is not None else name) + ".weight"


def write_tiny_moe_gguf(
    path: pathlib.Path,
    *,
    seed: int = 0,
    n_layers: int = 2,
    n_expert: int = 4,
    n_expert_used: int = 2,
    context_length: int = 2048,
    extra_special_tokens: Sequence[str] = (),
    chat_template: str = CHAT_TEMPLATE,
) -> pathlib.Path:
    """Write a random-weight `qwen3moe` GGUF to `path` (deterministic per `seed`); return `path`.

    Matrices are stored in F16, norms and the router in F32, as in a converted real model.
    `extra_special_tokens` are more control tokens (another family's markers, such as harmony's
    `<|channel|>`), with ids from `VOCAB_SIZE` on in the order given; `chat_template` replaces
    the ChatML one.
    """
    tokens, token_types, token_merges, favoured = _vocabulary(extra_special_tokens)
    vocab_size = len(tokens)
    if not 0 < n_expert_used <= n_expert:
        raise ValueError("need 0 < n_expert_used <= n_expert")
    rng = np.random.default_rng(seed)
    d, d_q, d_kv, d_ff = (
        EMBEDDING_LENGTH,
        HEAD_COUNT * HEAD_DIM,
        HEAD_COUNT_KV * HEAD_DIM,
        EXPERT_FEED_FORWARD_LENGTH,
    )

    # numpy shapes are ggml shapes reversed: a ggml {n_in, n_out} matrix is (n_out, n_in) here.
    def normal(*shape: int, std: float) -> F32:
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    def half(array: F32) -> F16:
        return array.astype(np.float16)

    def norm(size: int) -> F32:
        return (1.0 + normal(size, std=0.02)).astype(np.float32)

    # Residual dimension 0 is a constant 1 that no layer writes to (rows 0 of the output
    # projections are zero); the output rows of disfavoured tokens point against it.
    token_embd = normal(vocab_size, d, std=0.1)
    token_embd[:, 0] = 1.0
    output = normal(vocab_size, d, std=0.15)
    output[:, 0] = np.where(np.array(favoured), 0.0, -4.0)
    output_norm = norm(d)
    output_norm[0] = 1.0

    tensors: list[tuple[str, F32 | F16]] = [
        (_tensor_name(gguf.MODEL_TENSOR.TOKEN_EMBD), half(token_embd)),
        (_tensor_name(gguf.MODEL_TENSOR.OUTPUT_NORM), output_norm),
        (_tensor_name(gguf.MODEL_TENSOR.OUTPUT), half(output)),
    ]
    for il in range(n_layers):
        attn_output = normal(d, d_q, std=0.05)
        attn_output[0, :] = 0.0
        gate_inp = normal(n_expert, d, std=0.5)
        gate_inp[:, 0] = 0.0  # route on content, not on the constant dimension
        down_exps = normal(n_expert, d, d_ff, std=0.05)
        down_exps[:, 0, :] = 0.0
        tensors += [
            (_tensor_name(_T.ATTN_NORM, il), norm(d)),
            (_tensor_name(_T.ATTN_Q, il), half(normal(d_q, d, std=0.05))),
            (_tensor_name(_T.ATTN_K, il), half(normal(d_kv, d, std=0.05))),
            (_tensor_name(_T.ATTN_V, il), half(normal(d_kv, d, std=0.05))),
            (_tensor_name(_T.ATTN_Q_NORM, il), norm(HEAD_DIM)),
            (_tensor_name(_T.ATTN_K_NORM, il), norm(HEAD_DIM)),
            (_tensor_name(_T.ATTN_OUT, il), half(attn_output)),
            (_tensor_name(_T.FFN_NORM, il), norm(d)),
            (_tensor_name(_T.FFN_GATE_INP, il), gate_inp),
            (_tensor_name(_T.FFN_GATE_EXP, il), half(normal(n_expert, d_ff, d, std=0.05))),
            (_tensor_name(_T.FFN_UP_EXP, il), half(normal(n_expert, d_ff, d, std=0.05))),
            (_tensor_name(_T.FFN_DOWN_EXP, il), half(down_exps)),
        ]

    writer = gguf.GGUFWriter(path, ARCH_NAME)
    try:
        writer.add_name(MODEL_NAME)
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        writer.add_context_length(context_length)
        writer.add_embedding_length(d)
        writer.add_block_count(n_layers)
        writer.add_feed_forward_length(EXPERT_FEED_FORWARD_LENGTH * n_expert_used)
        writer.add_expert_feed_forward_length(EXPERT_FEED_FORWARD_LENGTH)
        writer.add_expert_count(n_expert)
        writer.add_expert_used_count(n_expert_used)
        writer.add_head_count(HEAD_COUNT)
        writer.add_head_count_kv(HEAD_COUNT_KV)
        writer.add_key_length(HEAD_DIM)
        writer.add_value_length(HEAD_DIM)
        writer.add_layer_norm_rms_eps(RMS_EPS)
        writer.add_rope_freq_base(ROPE_FREQ_BASE)  # no rope.dimension_count: it must be HEAD_DIM

        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("qwen2")
        writer.add_token_list(tokens)
        writer.add_token_types(token_types)
        writer.add_token_merges(token_merges)
        writer.add_bos_token_id(ENDOFTEXT_TOKEN_ID)
        writer.add_eos_token_id(EOS_TOKEN_ID)
        writer.add_pad_token_id(ENDOFTEXT_TOKEN_ID)
        writer.add_add_bos_token(False)
        writer.add_chat_template(chat_template)

        for name, array in tensors:
            writer.add_tensor(name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path
