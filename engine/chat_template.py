"""A model's chat template, given conversations in the shape it accepts.

Templates differ in what they accept: Gemma 2's refuses a system message, Mistral's and Gemma's
refuse two user turns in a row, each by raising. Rendering a few probe conversations at load
tells what this template accepts (whatever the model is called), and conversations are reshaped
to fit: the instructions folded into the first user turn, consecutive turns of one role merged.
A template that fails otherwise is reported once, in words, and the conversation is written in a
plain labelled layout instead, so the model still answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2
from llama_cpp import llama_chat_format
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from lanterne.engine.reasoning import ReasoningEffort, reasoning_fields, template_kwargs
from lanterne.foundation.translation import _

log = logging.getLogger(__name__)

Message = dict[str, str]
# Markers that open a new turn in common chat templates: a model writing one has finished.
TURN_MARKERS = (
    "<start_of_turn>",
    "<|im_start|>",
    "<|start_header_id|>",
    "[INST]",
    "<|user|>",
    "<|start|>user",  # harmony: a bare <|start|> also opens the final channel, which goes on
    "<|turn>",  # Gemma 4
    "<|start_of_role|>",  # Granite
)
PLAIN_STOPS = ("\nUser:", "\nAssistant:", "\nSystem:")

_SYSTEM = {"role": "system", "content": "Answer briefly."}
_USER = {"role": "user", "content": "Hello."}
_ASSISTANT = {"role": "assistant", "content": "Hello! How can I help?"}
_AGAIN = {"role": "user", "content": "Tell me more."}


@dataclass(frozen=True)
class Shape:
    """What a template accepts: a system message; turns that do not alternate."""

    system: bool = True
    consecutive: bool = True


def plain_layout(messages: Sequence[Mapping[str, str]]) -> str:
    """A plain, labelled layout any model can follow (no template, or a broken one)."""
    parts = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join(parts) + "\n\nAssistant:"


def fold_system(messages: list[Message]) -> list[Message]:
    """System text becomes user text: the first system message opens the first user turn."""
    if not messages or messages[0]["role"] != "system":
        return [{**m, "role": "user"} if m["role"] == "system" else m for m in messages]
    system, rest = messages[0], fold_system(messages[1:])
    if rest and rest[0]["role"] == "user":
        first = {**rest[0], "content": f"{system['content']}\n\n{rest[0]['content']}"}
        return [first, *rest[1:]]
    return [{**system, "role": "user"}, *rest]


def merge_runs(messages: list[Message]) -> list[Message]:
    """Consecutive messages of one role become one, their texts a paragraph apart."""
    merged: list[Message] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            last = merged[-1]
            for key, text in message.items():
                if key != "role" and text:
                    last[key] = f"{last[key]}\n\n{text}" if last.get(key) else text
        else:
            merged.append(dict(message))
    return merged


def reshape(messages: Sequence[Mapping[str, str]], shape: Shape) -> list[Message]:
    out = [dict(m) for m in messages]
    if not shape.system:
        out = fold_system(out)
    if not shape.consecutive:
        out = merge_runs(out)
    return out


def with_reasoning_fields(messages: list[Message], fmt: str) -> list[Message]:
    """A past answer's reasoning, under the field names the family's template reads."""
    out = []
    for message in messages:
        message = dict(message)
        reasoning = message.pop("reasoning_content", "")
        if reasoning and message["role"] == "assistant":
            message.update(dict.fromkeys(reasoning_fields(fmt), reasoning))
        out.append(message)
    return out


class _LenientFormatter(Jinja2ChatFormatter):
    """llama-cpp-python compiles every template of a GGUF as it loads the model, for chat
    handlers Lanterne never uses: a template that does not compile must not stop the model from
    loading (`ChatTemplate` says what is wrong with it, and the plain layout answers)."""

    def __init__(self, template: str, *args: object, **kwargs: object) -> None:
        try:
            super().__init__(template, *args, **kwargs)  # type: ignore[arg-type]
        except jinja2.TemplateError:
            super().__init__("", *args, **kwargs)  # type: ignore[arg-type]


def allow_broken_templates() -> None:
    """Let llama-cpp-python load models whose chat template does not compile (idempotent)."""
    llama_chat_format.Jinja2ChatFormatter = _LenientFormatter  # type: ignore[misc]


class ChatTemplate:
    """The model's template, probed once; `problem` says in words why it is not used."""

    def __init__(self, template: str | None, *, bos: str, eos: str, model: str, fmt: str):
        self._text = template or ""
        self._model = model
        self._fmt = fmt
        self.problem: str | None = None
        self.shape = Shape()
        self._formatter: Jinja2ChatFormatter | None = None
        if not template:
            return
        try:
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        except Exception as exc:  # a template that does not even compile
            self._give_up(exc)
            return
        self._probe()

    @property
    def used(self) -> bool:
        """Whether prompts are written with the model's template (not the plain layout)."""
        return self._formatter is not None

    def _render(self, messages: list[Message], kwargs: Mapping[str, object]) -> str:
        assert self._formatter is not None
        return self._formatter(messages=messages, **kwargs).prompt  # type: ignore[arg-type]

    def _accepts(self, messages: list[Message]) -> bool:
        try:
            self._render(messages, {})
        except Exception:
            return False
        return True

    def _probe(self) -> None:
        try:
            self._render([dict(_USER), dict(_ASSISTANT), dict(_AGAIN)], {})
        except Exception as exc:  # not even a plain conversation: the template is broken
            self._give_up(exc)
            return
        self.shape = Shape(
            system=self._accepts([dict(_SYSTEM), dict(_USER)]),
            consecutive=self._accepts([dict(_USER), dict(_AGAIN)]),
        )

    def _give_up(self, exc: Exception) -> None:
        self._formatter = None
        self.problem = _(
            "The chat template of {model} does not work ({error}). Its questions are written "
            "in a plain layout instead, which the model may follow less well."
        ).format(model=self._model, error=str(exc) or type(exc).__name__)
        log.warning("%s", self.problem)

    def kwargs(self, effort: ReasoningEffort) -> dict[str, object]:
        """The reasoning switches this template has, for `effort`."""
        wanted = template_kwargs(self._fmt, effort)
        return {k: v for k, v in wanted.items() if re.search(rf"\b{k}\b", self._text)}

    def render(self, messages: Sequence[Mapping[str, str]], effort: ReasoningEffort) -> str:
        """The prompt for `messages`, as the model was trained to see a conversation."""
        if self._formatter is None:
            return plain_layout(messages)
        shaped = with_reasoning_fields(reshape(messages, self.shape), self._fmt)
        try:
            return self._render(shaped, self.kwargs(effort))
        except Exception as exc:  # a rule the probes did not meet: the plain layout from now on
            self._give_up(exc)
            return plain_layout(messages)

    def stop_markers(self) -> list[str]:
        """Text that means the model has finished its turn and started another."""
        if self._formatter is None:
            return list(PLAIN_STOPS)
        return [m for m in TURN_MARKERS if m in self._text]
