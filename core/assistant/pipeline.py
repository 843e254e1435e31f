"""retrieve -> prompt -> engine, as a stream of events a CLI or a GUI can show.

`ask` blocks its caller while the model loads and generates (on the model's own thread), so it is
meant to be iterated from a worker thread in the GUI and from the main thread in the CLI.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from lanterne.assistant.answer import Answer, Citation, cited_numbers
from lanterne.assistant.engine_info import EngineInfo
from lanterne.assistant.house_rules import HouseRules, Masker, TrailingSpace
from lanterne.assistant.prompt import AnswerStyle, PastTurn
from lanterne.assistant.responders import (
    LocalResponder,
    RemoteResponder,
    Responder,
)
from lanterne.embedding_model import retrieval_mode, search_embedder
from lanterne.engine.errors import GenerationCancelledError, NoModelConfiguredError
from lanterne.engine.host import LoadRequest, ModelHost
from lanterne.engine.json_grammar import SchemaError, schema_grammar
from lanterne.engine.offload import PlanOverrides
from lanterne.engine.reasoning import REASONING_EFFORTS, ReasoningEffort, Thought
from lanterne.engine.remote import RemoteChatBackend
from lanterne.engine.runtime import Timings
from lanterne.engine.sampler_chain import GrammarError
from lanterne.foundation.language import question_language
from lanterne.foundation.settings import Settings
from lanterne.foundation.translation import _, current_language
from lanterne.index_repair import telling_damage
from lanterne.indexer.index_for_reading import open_index_for_reading
from lanterne.indexer.retriever import NO_FILTERS, Retriever, SearchFilters


@dataclass(frozen=True)
class LoadingModel:
    """The local model is being loaded (seconds for a large one): say so before it is ready."""

    name: str
    size_bytes: int


@dataclass(frozen=True)
class ModelReady:
    engine: EngineInfo


@dataclass(frozen=True)
class Retrieved:
    citations: list[Citation]


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Thinking:
    """A piece of the model's reasoning: shown apart (collapsed), never part of the answer."""

    text: str


@dataclass(frozen=True)
class Finished:
    answer: Answer


AskEvent = LoadingModel | ModelReady | Retrieved | Thinking | Token | Finished


def answer_style(settings: Settings) -> AnswerStyle:
    """The instructions' settings (answer.*, house.instructions), as the prompt takes them."""
    return AnswerStyle(
        grounding=settings.get_str("answer.grounding"),
        length=settings.get_str("answer.length"),
        tone=settings.get_str("answer.tone"),
        house=settings.get_str("house.instructions").strip(),
    )


def answer_language(question: str, policy: str = "question") -> Literal["fr", "en"]:
    """The language the answer must be written in, whatever the sources' language: the one the
    setting forces, else the question's; when a question cannot tell (a bare name, a command),
    the interface's."""
    if policy in ("fr", "en"):
        return "fr" if policy == "fr" else "en"
    interface = current_language()
    return question_language(question, "fr" if interface == "fr" else "en")


class Assistant:
    def __init__(self, settings: Settings, host: ModelHost, index_path: Path) -> None:
        self.settings = settings
        self.host = host
        self.index_path = index_path

    def load_request(self, model_path: Path | None = None) -> LoadRequest:
        path = model_path or (Path(p) if (p := self.settings.get_str("model.path")) else None)
        if path is None:
            raise NoModelConfiguredError(
                _(
                    "No model is configured. Run 'lanterne models recommend' then 'lanterne "
                    "models download NAME', import a GGUF file with 'lanterne models import "
                    "PATH', pass --model PATH, or set LANTERNE_MODEL."
                )
            )
        self.settings.check_model(str(path))
        return LoadRequest(
            path=path.expanduser(),
            n_ctx=self.settings.get_int("model.context_size"),
            n_threads=self.settings.get_int("model.threads"),
            overrides=self.plan_overrides(),
        )

    def plan_overrides(self) -> PlanOverrides:
        """What the user forced in Settings; "auto" and -1 leave the choice to the planner."""
        s = self.settings
        gpu_layers = s.get_int("offload.gpu_layers")
        cpu_experts = s.get_int("offload.cpu_expert_layers")
        kv = s.get_str("offload.kv_cache_type")
        flash = s.get_str("offload.flash_attention")
        return PlanOverrides(
            n_gpu_layers=gpu_layers if gpu_layers >= 0 else None,
            cpu_expert_layers=cpu_experts if cpu_experts >= 0 else None,
            kv_type=None if kv == "auto" else kv,
            flash_attn=None if flash == "auto" else flash == "on",
        )

    def style(self) -> AnswerStyle:
        return answer_style(self.settings)

    def retrieve(
        self, question: str, k: int | None = None, filters: SearchFilters = NO_FILTERS
    ) -> list[Citation]:
        with telling_damage(self.index_path):  # damaged: the app's index service repairs it
            store, _read_only = open_index_for_reading(self.index_path)  # a read-only one too
            try:
                embedder, _problem = search_embedder(self.settings, store)
                results = Retriever(store, embedder).search(
                    question,
                    k if k is not None else self.settings.get_int("retrieval.top_k"),
                    filters,
                    mode=retrieval_mode(self.settings),
                )
            finally:
                store.close()
        return [Citation(n=i, source=r) for i, r in enumerate(results, start=1)]

    def open_responder(self, model_path: Path | None = None) -> Responder:
        """The local model (loaded on its thread if need be) or the configured server."""
        if model_path is None and self.settings.get_str("engine.backend") == "remote":
            url = self.settings.get_str("remote.url")
            if not url:
                raise NoModelConfiguredError(
                    _("The remote backend is chosen but no server is set: set remote.url.")
                )
            self.settings.check_remote(url)
            backend = RemoteChatBackend(url, self.settings.get_str("remote.model") or None)
            try:
                return RemoteResponder(backend, self.settings.get_int("remote.context_size"))
            except BaseException:
                backend.close()
                raise
        model = self.host.load(self.load_request(model_path)).result()
        return LocalResponder(self.host, model, self.reasoning_effort())

    def reasoning_effort(self) -> ReasoningEffort:
        """How much the model may reason before it answers (answer.reasoning)."""
        chosen = self.settings.get_str("answer.reasoning")
        return next((e for e in REASONING_EFFORTS if e == chosen), "low")

    def ask(
        self,
        question: str,
        *,
        model_path: Path | None = None,
        use_docs: bool = True,
        cancel: threading.Event | None = None,
        history: Sequence[PastTurn] = (),
        schema: dict[str, Any] | None = None,
        filters: SearchFilters = NO_FILTERS,
        grammar: str | None = None,
    ) -> Iterator[AskEvent]:
        """Answer `question`; `history` holds the conversation's earlier turns, oldest first.
        With a JSON `schema`, the local model can only write JSON of that shape; `filters`
        limit the sources to some folders, file types or languages; a GBNF `grammar` limits what
        the local model can write (llama.cpp's grammars: tests, scripts, constrained formats)."""
        language = answer_language(question, self.settings.get_str("model.answer_language"))
        rules = HouseRules.from_settings(self.settings)
        topic = rules.declined_topic(question)
        if topic is not None:  # no model is asked, nothing is retrieved
            yield from _declined(question, language, rules, topic)
            return
        citations = self.retrieve(question, filters=filters) if use_docs else []
        if model_path is not None or self.settings.get_str("engine.backend") != "remote":
            request = self.load_request(model_path)
            if not self.host.is_loaded(request):
                try:
                    size: int | None = request.path.stat().st_size
                except OSError:
                    size = None  # gone: loading it says so, in words
                if size is not None:
                    yield LoadingModel(request.path.name, size)
        responder = self.open_responder(model_path)
        try:
            yield ModelReady(responder.info)
            params = responder.sampling(
                self.settings.get_int("model.max_answer_tokens"),
                self.settings.get_float("model.temperature"),
            )
            style = self.style()
            if schema is not None:
                if responder.info.backend != "local":
                    raise SchemaError(
                        _("JSON output (--schema) needs the local model: llama.cpp's grammars.")
                    )
                params = replace(params, grammar=schema_grammar(schema))
                style = replace(style, schema=json.dumps(schema, ensure_ascii=False))
            elif grammar is not None:
                if responder.info.backend != "local":
                    raise GrammarError(
                        _("An output grammar (--grammar) needs the local model: llama.cpp's.")
                    )
                params = replace(params, grammar=grammar)
            fitted = responder.fit(question, citations, language, history, params.max_tokens, style)
            yield Retrieved(fitted.citations)
            shown: list[str] = []  # as masked on the way: the answer is what was shown
            masker = Masker(rules.masked_words)
            tail = TrailingSpace()  # so that what is shown ends as the answer's text does
            # The reasoning is shown too (apart): the organisation's masked words are masked in
            # it as well, by a masker of its own so that it never runs into the answer's text.
            thought: list[str] = []
            thought_masker = Masker(rules.masked_words)
            stopped = False
            try:
                for piece in responder.stream(fitted, params, cancel):
                    if isinstance(piece, Thought):
                        for part in thought_masker.feed(piece.text):
                            thought.append(part)
                            yield Thinking(part)
                        continue
                    if rest := thought_masker.finish():  # the reasoning is over: all of it
                        thought.append(rest)
                        yield Thinking(rest)
                    for part in masker.feed(piece):
                        if part := tail.feed(part):
                            shown.append(part)
                            yield Token(part)
            except GenerationCancelledError:
                stopped = True
            if rest := thought_masker.finish():
                thought.append(rest)
                yield Thinking(rest)
            if rest := tail.feed(masker.finish()):
                shown.append(rest)
                yield Token(rest)
            text = "".join(shown).strip()
            notice = ""
            if rules.disclaimer and text and schema is None:
                yield Token("\n\n" + rules.disclaimer)
                text = rules.with_disclaimer(text)
            elif rules.disclaimer:
                notice = rules.disclaimer  # beside the JSON, which it would break
            yield Finished(
                Answer(
                    question=question,
                    text=text,
                    language=language,
                    citations=fitted.citations,
                    timings=responder.timings(),
                    engine=responder.info,
                    stopped=stopped,
                    cited=cited_numbers(text, len(fitted.citations)),
                    turns_kept=fitted.turns_kept,
                    notice=notice,
                    reasoning="".join(thought).strip(),
                )
            )
        finally:
            responder.close()


def _declined(question: str, language: str, rules: HouseRules, topic: str) -> Iterator[AskEvent]:
    """The answer to a question on a topic the organisation declines: said, not generated."""
    text = rules.with_disclaimer(rules.decline_message(topic, language))
    yield Retrieved([])
    yield Token(text)
    name = _("Your organisation's rules")
    yield Finished(
        Answer(
            question=question,
            text=text,
            language=language,
            citations=[],
            timings=Timings(0, 0.0, 0, 0.0, 0.0),
            engine=EngineInfo("rules", name, name, _("Declined by your organisation's rules")),
            declined=topic,
        )
    )
