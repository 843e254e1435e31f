"""A shipped tokenizer standing in for a family's own, which llama.cpp does not ship.

The stand-in keeps its BPE (how plain text splits) but not its own control tokens: Llama 3's
`<|eot_id|>`, `<|eom_id|>` and `<|end_of_text|>` are end-of-generation tokens to llama.cpp by
their text alone, and a family that lacks them must not stop on them. They are renamed to
neutral reserved names, and the family's controls are added with the texts its template writes,
so the tokens that end a turn are exactly the family's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import gguf

from support import real_vocab

_CONTROL = int(gguf.TokenType.CONTROL)


def stand_in(
    base: str,
    controls: Sequence[str],
    *,
    add_bos: bool,
    **ids: str,
) -> real_vocab.Vocab:
    """`ggml-vocab-<base>` with its control tokens neutralised, then `controls` added;
    `ids` name the family's special roles by text (`bos="<s>"`, `eos="</s>"`)."""
    vocab = real_vocab.read_vocab(base)
    tokens = [
        f"<|stand_in_reserved_{i}|>" if kind == _CONTROL else text
        for i, (text, kind) in enumerate(zip(vocab.tokens, vocab.types, strict=True))
    ]
    neutral = replace(vocab, tokens=tokens, ids={}, flags={"add_bos": add_bos, "add_eos": False})
    return real_vocab.with_controls(neutral, controls, **ids)
