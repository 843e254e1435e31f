"""Token bytes become text only when whole, and never past a stop string."""

from __future__ import annotations

from lanterne.engine.text_stream import TextAssembler


def feed_all(assembler: TextAssembler, parts: list[bytes]) -> list[str]:
    out = [assembler.feed(p) for p in parts]
    out.append(assembler.flush())
    return out


def test_a_character_split_over_two_tokens_is_shown_whole() -> None:
    data = "été".encode()
    out = feed_all(TextAssembler(), [data[:1], data[1:3], data[3:]])
    assert out == ["", "ét", "é", ""]


def test_a_stop_string_split_over_tokens_is_never_shown() -> None:
    parts = [b"Paris.", b"\n", b"Us", b"er:", b" more"]
    assembler = TextAssembler(["\nUser:"])
    out = feed_all(assembler, parts)
    assert "".join(out) == "Paris."
    assert out[1] == "" and out[2] == ""  # held back while it could still be a stop
    assert assembler.stopped


def test_held_text_that_is_not_a_stop_comes_out() -> None:
    out = feed_all(TextAssembler(["<|im_start|>"]), [b"a <", b"|im", b" b"])
    assert out == ["a ", "", "<|im b", ""]


def test_text_ending_on_a_stop_prefix_is_flushed_at_the_end() -> None:
    assert feed_all(TextAssembler(["\nUser:"]), [b"fin\nUs"]) == ["fin", "\nUs"]


def test_invalid_bytes_become_replacement_characters() -> None:
    assert "".join(feed_all(TextAssembler(), [b"a\xff", b"b"])) == "a\ufffdb"


def test_a_stop_at_the_very_start_yields_nothing() -> None:
    assembler = TextAssembler(["<end>"])
    assert feed_all(assembler, [b"<end>rest", b"more"]) == ["", "", ""]
