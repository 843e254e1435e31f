"""What a generation is asked for and what it reports, for every backend alike.

The local runtime (engine/runtime.py) and an OpenAI-compatible server (engine/remote.py) take the
same sampling settings and give the same timings, so the assistant need not know which answered;
neither backend takes these types from the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    seed: int | None = None
    grammar: str | None = None  # GBNF the output must follow (e.g. a JSON schema's)


@dataclass(frozen=True)
class Timings:
    prompt_tokens: int
    prompt_ms: float
    predicted_tokens: int
    predicted_ms: float
    ttft_ms: float
    reused_tokens: int = 0  # prompt tokens found already evaluated in the KV cache
    # Tokens sampled, the last included (it ends the turn, or is where the limit cut; it is never
    # decoded, so `predicted_tokens` leaves it out), and whether the answer was cut by the
    # token limit or the end of the context rather than ended by the model or a stop string.
    sampled_tokens: int = 0
    cut_short: bool = False
    # Time to the first token of the answer itself, after any reasoning; left out, the first
    # token was the answer's (`ttft_ms`).
    first_answer_ms: float = -1.0

    def __post_init__(self) -> None:
        if self.first_answer_ms < 0:
            object.__setattr__(self, "first_answer_ms", self.ttft_ms)

    def to_json(self) -> dict[str, float | int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "prompt_ms": round(self.prompt_ms, 2),
            "predicted_tokens": self.predicted_tokens,
            "predicted_ms": round(self.predicted_ms, 2),
            "ttft_ms": round(self.ttft_ms, 2),
            "first_answer_ms": round(self.first_answer_ms, 2),
            "reused_tokens": self.reused_tokens,
        }

    @property
    def tokens_per_second(self) -> float:
        return self.predicted_tokens * 1000.0 / self.predicted_ms if self.predicted_ms else 0.0
