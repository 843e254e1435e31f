"""A tiny, random-weight `granitehybrid` GGUF (Mamba-2 and attention layers), written for tests.

The catalog's starter model, Granite 4.0 H 1B, is a dense hybrid: most layers are Mamba-2 state
space mixers, a few are attention, each followed by a dense SwiGLU FFN, with no positional
encoding. Tests cannot download its 0.9 GB file, so this writes the same architecture at a few
hundred kilobytes, with the tensor names, shapes and metadata keys llama.cpp's converter writes
for it (`GraniteHybridModel` in convert_hf_to_gguf): per-layer `head_count_kv` with 0 on the
recurrent layers, the `ssm.*` sizes, `rope.scaling.finetuned` false. llama.cpp then loads it
through the same code as the real file, recurrent state and KV cache side by side.

The vocabulary and chat template are `support.tiny_moe`'s, and so is the trick that keeps
generation to printable ASCII: residual dimension 0 is a constant no layer writes to, and the
output rows of control tokens and non-printable bytes point against it.
"""

from __future__ import annotations

import pathlib
from typing import Final

import gguf
import numpy as np
import numpy.typing as npt

from support import tiny_moe

ARCH: Final = gguf.MODEL_ARCH.GRANITE_HYBRID
ARCH_NAME: Final = gguf.MODEL_ARCH_NAMES[ARCH]
MODEL_NAME: Final = "Tiny Granite hybrid (random weights)"

EMBEDDING_LENGTH: Final = 64
HEAD_COUNT: Final = 4
HEAD_COUNT_KV: Final = 2
HEAD_DIM: Final = EMBEDDING_LENGTH // HEAD_COUNT
FEED_FORWARD_LENGTH: Final = 128
SSM_INNER: Final = 2 * EMBEDDING_LENGTH  # llama.cpp supports an expansion factor of 2 only
SSM_STATE: Final = 16
SSM_GROUPS: Final = 1
SSM_HEADS: Final = 8
SSM_CONV: Final = 4
RMS_EPS: Final = 1e-5

F32 = npt.NDArray[np.float32]
F16 = npt.NDArray[np.float16]
_T = gguf.MODEL_TENSOR


def _name(kind: gguf.MODEL_TENSOR, layer: int | None = None, suffix: str = ".weight") -> str:
    if kind not in gguf.MODEL_TENSORS[ARCH]:
        raise AssertionError(f"{kind!r} is not a {ARCH_NAME} tensor")
    name = gguf.TENSOR_NAMES[kind]
    return (name.format(bid=layer) if layer is not None else name) + suffix


def write_tiny_hybrid_gguf(
    path: pathlib.Path,
    *,
    seed: int = 0,
    n_layers: int = 4,
    attention_layers: tuple[int, ...] = (1,),
    context_length: int = 4096,
) -> pathlib.Path:
    """Write a random-weight dense `granitehybrid` GGUF to `path`; return `path`.

    Matrices in F16, norms, convolution and the per-head A, D and dt in F32, as converted.
    """
    rng = np.random.default_rng(seed)
    d, d_ff = EMBEDDING_LENGTH, FEED_FORWARD_LENGTH
    d_q, d_kv = HEAD_COUNT * HEAD_DIM, HEAD_COUNT_KV * HEAD_DIM
    conv_channels = SSM_INNER + 2 * SSM_GROUPS * SSM_STATE
    d_in_proj = SSM_INNER + conv_channels + SSM_HEADS

    # numpy shapes are ggml shapes reversed: a ggml {n_in, n_out} matrix is (n_out, n_in) here.
    def normal(*shape: int, std: float) -> F32:
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    def half(array: F32) -> F16:
        return array.astype(np.float16)

    def norm(*shape: int) -> F32:
        return (1.0 + normal(*shape, std=0.02)).astype(np.float32)

    def writes_residual(n_out: int, n_in: int) -> F16:
        """An output projection whose row 0 is zero: dimension 0 stays constant."""
        matrix = normal(n_out, n_in, std=0.05)
        matrix[0, :] = 0.0
        return half(matrix)

    token_embd = normal(tiny_moe.VOCAB_SIZE, d, std=0.1)
    token_embd[:, 0] = 1.0
    output = normal(tiny_moe.VOCAB_SIZE, d, std=0.15)
    output[:, 0] = np.where(np.array(tiny_moe._FAVOURED), 0.0, -4.0)
    output_norm = norm(d)
    output_norm[0] = 1.0

    tensors: list[tuple[str, F32 | F16]] = [
        (_name(_T.TOKEN_EMBD), half(token_embd)),
        (_name(_T.OUTPUT_NORM), output_norm),
        (_name(_T.OUTPUT), half(output)),
    ]
    for il in range(n_layers):
        tensors.append((_name(_T.ATTN_NORM, il), norm(d)))
        if il in attention_layers:
            tensors += [
                (_name(_T.ATTN_Q, il), half(normal(d_q, d, std=0.05))),
                (_name(_T.ATTN_K, il), half(normal(d_kv, d, std=0.05))),
                (_name(_T.ATTN_V, il), half(normal(d_kv, d, std=0.05))),
                (_name(_T.ATTN_OUT, il), writes_residual(d, d_q)),
            ]
        else:
            a_log = np.log(rng.uniform(1.0, 16.0, size=(SSM_HEADS, 1)))
            dt = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), size=SSM_HEADS))
            tensors += [
                (_name(_T.SSM_IN, il), half(normal(d_in_proj, d, std=0.05))),
                (_name(_T.SSM_CONV1D, il), normal(conv_channels, SSM_CONV, std=0.2)),
                (_name(_T.SSM_CONV1D, il, ".bias"), normal(conv_channels, std=0.02)),
                (_name(_T.SSM_DT, il, ".bias"), np.log(np.expm1(dt)).astype(np.float32)),
                (_name(_T.SSM_A, il, ""), (-np.exp(a_log)).astype(np.float32)),
                (_name(_T.SSM_D, il, ""), np.ones((SSM_HEADS, 1), dtype=np.float32)),
                (_name(_T.SSM_NORM, il), norm(SSM_GROUPS, SSM_INNER // SSM_GROUPS)),
                (_name(_T.SSM_OUT, il), writes_residual(d, SSM_INNER)),
            ]
        tensors += [
            (_name(_T.FFN_NORM, il), norm(d)),
            (_name(_T.FFN_GATE, il), half(normal(d_ff, d, std=0.05))),
            (_name(_T.FFN_UP, il), half(normal(d_ff, d, std=0.05))),
            (_name(_T.FFN_DOWN, il), writes_residual(d, d_ff)),
        ]

    writer = gguf.GGUFWriter(path, ARCH_NAME)
    try:
        writer.add_name(MODEL_NAME)
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        writer.add_context_length(context_length)
        writer.add_embedding_length(d)
        writer.add_block_count(n_layers)
        writer.add_feed_forward_length(d_ff)
        writer.add_head_count(HEAD_COUNT)
        writer.add_head_count_kv(
            [HEAD_COUNT_KV if il in attention_layers else 0 for il in range(n_layers)]
        )
        writer.add_layer_norm_rms_eps(RMS_EPS)
        writer.add_rope_scaling_finetuned(False)  # Granite 4.0 H: no positional encoding
        writer.add_ssm_conv_kernel(SSM_CONV)
        writer.add_ssm_inner_size(SSM_INNER)
        writer.add_ssm_state_size(SSM_STATE)
        writer.add_ssm_time_step_rank(SSM_HEADS)  # llama.cpp reads the head count here
        writer.add_ssm_group_count(SSM_GROUPS)

        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("qwen2")
        writer.add_token_list(tiny_moe.TOKENS)
        writer.add_token_types(tiny_moe._TOKEN_TYPES)
        writer.add_token_merges(tiny_moe._TOKEN_MERGES)
        writer.add_bos_token_id(tiny_moe.ENDOFTEXT_TOKEN_ID)
        writer.add_eos_token_id(tiny_moe.EOS_TOKEN_ID)
        writer.add_pad_token_id(tiny_moe.ENDOFTEXT_TOKEN_ID)
        writer.add_add_bos_token(False)
        writer.add_chat_template(tiny_moe.CHAT_TEMPLATE)

        for name, array in tensors:
            writer.add_tensor(name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path
