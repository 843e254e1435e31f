"""A real tokenizer from llama.cpp's `ggml-vocab-*.gguf`, written into a tiny model being made.

The families' tokenizers differ in exactly what breaks chat apps: which control tokens open and
close a turn or a reasoning block, and how text around them splits. Where llama.cpp ships the
family's own tokenizer (Qwen's, Gemma 4's) it is used as is; where it does not (gpt-oss's
o200k_harmony, Mistral's tekken, LFM2's, Nemotron's, Granite's), the closest shipped BPE
tokenizer is given the family's control tokens, with the texts the real template writes, so
the template's prompt tokenizes as the real model's does around every marker.

Random weights would otherwise pick control tokens and unprintable pieces all the time: as in
`support.tiny_moe`, the output rows of everything but plain printable text point against a
residual dimension that stays constant (`favoured` says which rows may win).
"""

from __future__ import annotations

import ctypes
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import gguf
import numpy as np
import numpy.typing as npt

from lanterne.engine import ggml_api
from support import llama_sources

_PLAIN = re.compile(r"^[ĠĊ▁ a-zA-Z.,']+$")  # letters, spaces (BPE Ġ, SPM ▁) and a few signs


@dataclass(frozen=True)
class Vocab:
    model: str  # tokenizer.ggml.model: "gpt2" (BPE) or "llama" (SPM) ...
    pre: str | None
    tokens: list[str]
    types: list[int]
    merges: list[str] | None = None
    scores: list[float] | None = None
    ids: dict[str, int] = field(default_factory=dict)  # "bos", "eos", "eot", "pad", "unknown"
    flags: dict[str, bool] = field(default_factory=dict)  # "add_bos", "add_eos", "add_space"

    @property
    def size(self) -> int:
        return len(self.tokens)

    def id_of(self, text: str) -> int:
        return self.tokens.index(text)


def _read_kv(path: Path) -> dict[str, object]:
    """Every key of a GGUF header, arrays in full, through ggml's own reader: the gguf
    package's reader takes tens of seconds on a 262,144-token vocabulary, this a fraction."""
    api = ggml_api.gguf_api()
    ctx = api["init"](str(path).encode(), ggml_api.GGUFInitParams(no_alloc=True, ctx=None))
    if not ctx:
        raise ValueError(f"cannot read {path}")
    try:
        found: dict[str, object] = {}
        for i in range(api["n_kv"](ctx)):
            key = api["key"](ctx, i).decode()
            kind = api["kv_type"](ctx, i)
            if kind == ggml_api.GGUF_TYPE_STRING:
                found[key] = api["val_str"](ctx, i).decode("utf-8", "surrogateescape")
            elif kind == ggml_api.GGUF_TYPE_ARRAY:
                n, sub = api["arr_n"](ctx, i), api["arr_type"](ctx, i)
                if sub == ggml_api.GGUF_TYPE_STRING:
                    found[key] = [
                        api["arr_str"](ctx, i, j).decode("utf-8", "surrogateescape")
                        for j in range(n)
                    ]
                elif sub in ggml_api.GGUF_SCALARS:
                    ctype = ggml_api.GGUF_SCALARS[sub]
                    data = ctypes.cast(api["arr_data"](ctx, i), ctypes.POINTER(ctype * n))
                    found[key] = list(data.contents)
            elif kind in ggml_api.GGUF_SCALARS:
                ctype = ggml_api.GGUF_SCALARS[kind]
                found[key] = ctypes.cast(api["val_data"](ctx, i), ctypes.POINTER(ctype))[0]
        return found
    finally:
        api["free"](ctx)


@functools.cache
def read_vocab(name: str) -> Vocab:
    """The tokenizer of `ggml-vocab-<name>.gguf` in the installed llama-cpp-python's sources."""
    kv = _read_kv(llama_sources.vocab_file(name))
    prefix = "tokenizer.ggml."
    ids = {}
    for key in ("bos", "eos", "eot", "padding", "unknown"):
        value = kv.get(f"{prefix}{key}_token_id")
        if isinstance(value, int):
            ids["pad" if key == "padding" else key] = value
    flags = {}
    for key, flag in (
        ("add_bos_token", "add_bos"),
        ("add_eos_token", "add_eos"),
        ("add_space_prefix", "add_space"),
    ):
        value = kv.get(prefix + key)
        if isinstance(value, bool | int):
            flags[flag] = bool(value)
    merges, scores, pre = (
        kv.get(prefix + "merges"),
        kv.get(prefix + "scores"),
        kv.get(prefix + "pre"),
    )
    tokens, types = kv[prefix + "tokens"], kv[prefix + "token_type"]
    assert isinstance(tokens, list) and isinstance(types, list)
    return Vocab(
        model=str(kv[prefix + "model"]),
        pre=str(pre) if pre is not None else None,
        tokens=[str(t) for t in tokens],
        types=[int(t) for t in types],
        merges=[str(m) for m in merges] if isinstance(merges, list) else None,
        scores=[float(s) for s in scores] if isinstance(scores, list) else None,
        ids=ids,
        flags=flags,
    )


def with_controls(vocab: Vocab, texts: Sequence[str], **ids: str) -> Vocab:
    """`vocab` with each of `texts` a control token (appended when missing); `ids` names
    special roles by text (`eos="<|im_end|>"`)."""
    tokens, types = list(vocab.tokens), list(vocab.types)
    scores = list(vocab.scores) if vocab.scores is not None else None
    for text in texts:
        if text in tokens:
            types[tokens.index(text)] = int(gguf.TokenType.CONTROL)
            continue
        tokens.append(text)
        types.append(int(gguf.TokenType.CONTROL))
        if scores is not None:
            scores.append(0.0)
    roles = dict(vocab.ids)
    for role, text in ids.items():
        roles[role] = tokens.index(text)
    return replace(vocab, tokens=tokens, types=types, scores=scores, ids=roles)


def with_shown(vocab: Vocab, texts: Sequence[str]) -> Vocab:
    """`vocab` with `texts` appended as user-defined tokens: one token each, shown as text (how
    Qwen's `<think>` and `</think>` are added to its BPE)."""
    shown = [t for t in texts if t not in vocab.tokens]
    kind = int(gguf.TokenType.USER_DEFINED)
    scores = [*vocab.scores, *[0.0] * len(shown)] if vocab.scores is not None else None
    return replace(
        vocab,
        tokens=[*vocab.tokens, *shown],
        types=[*vocab.types, *[kind] * len(shown)],
        scores=scores,
    )


def favoured(vocab: Vocab) -> npt.NDArray[np.bool_]:
    """Rows sampling may pick: normal tokens of plain letters and spaces."""
    normal = int(gguf.TokenType.NORMAL)
    return np.array(
        [
            t == normal and bool(_PLAIN.match(s))
            for s, t in zip(vocab.tokens, vocab.types, strict=True)
        ]
    )


def output_rows(
    vocab: Vocab, width: int, rng: np.random.Generator, std: float = 0.15
) -> npt.NDArray[np.float32]:
    """The output matrix: random, with column 0 keeping all but favoured tokens out of reach
    (the token embeddings' column 0 must be 1 and no layer may write to residual dim 0)."""
    rows = rng.normal(0.0, std, size=(vocab.size, width)).astype(np.float32)
    rows[:, 0] = np.where(favoured(vocab), 0.0, -6.0)
    return rows


def add_to_writer(writer: gguf.GGUFWriter, vocab: Vocab, chat_template: str) -> None:
    """The tokenizer keys llama.cpp reads, and the chat template."""
    writer.add_tokenizer_model(vocab.model)
    if vocab.pre is not None:
        writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.types)
    if vocab.merges is not None:
        writer.add_token_merges(vocab.merges)
    if vocab.scores is not None:
        writer.add_token_scores(vocab.scores)
    adders = {
        "bos": writer.add_bos_token_id,
        "eos": writer.add_eos_token_id,
        "eot": writer.add_eot_token_id,
        "pad": writer.add_pad_token_id,
        "unknown": writer.add_unk_token_id,
    }
    for role, token in vocab.ids.items():
        adders[role](token)
    if "add_bos" in vocab.flags:
        writer.add_add_bos_token(vocab.flags["add_bos"])
    if "add_eos" in vocab.flags:
        writer.add_add_eos_token(vocab.flags["add_eos"])
    if "add_space" in vocab.flags:
        writer.add_add_space_prefix(vocab.flags["add_space"])
    writer.add_chat_template(chat_template)


def vocab_path_for_docs(name: str) -> Path:
    """Where a vocabulary comes from (for messages and docs)."""
    return llama_sources.vocab_file(name)
