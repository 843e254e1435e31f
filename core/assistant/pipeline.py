"""retrieve -> prompt -> engine, as a stream of events a CLI or a GUI can show.

`ask` blocks its caller while the model loads and generates (on the model's own thread), so it is
meant to be iterated from a worker thread in the GUI and from the main thread in the CLI.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from lanterne.assistant.answer import Answer, Citation, cited_numbers
from lanterne.assistant.prompt import Source, build_messages, fold_system
from lanterne.engine.errors import GenerationCancelledError, NoModelConfiguredError
from lanterne.engine.host import LoadRequest, ModelHost
from lanterne.engine.model_info import ModelInfo
from lanterne.engine.offload import OffloadPlan, PlanOverrides
from lanterne.engine.runtime import LocalModel, SamplingParams
from lanterne.engine.sampling import recommended
from lanterne.indexer.language import detect_language
from lanterne.indexer.retriever import Retriever
from lanterne.indexer.store import IndexStore
from lanterne.settings import Settings
from lanterne.translation import _, current_language

_PROMPT_MARGIN = 16  # tokens kept free besides the answer budget


@dataclass(frozen=True)
class ModelReady:
    info: ModelInfo
    plan: OffloadPlan


@dataclass(frozen=True)
class Retrieved:
    citations: list[Citation]


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Finished:
    answer: Answer


AskEvent = ModelReady | Retrieved | Token | Finished


def answer_language(question: str) -> str:
    """The question's language; for anything else, the interface's (French or English)."""
    detected = detect_language(question)
    if detected in ("fr", "en"):
        return detected
    ui = current_language()
    return ui if ui in ("fr", "en") else "en"


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
                    "No model is configured. Choose a GGUF file in the app, pass --model PATH, "
                    "or set LANTERNE_MODEL."
                )
            )
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

    def retrieve(self, question: str, k: int | None = None) -> list[Citation]:
        store = IndexStore(self.index_path)
        try:
            results = Retriever(store).search(
                question, k if k is not None else self.settings.get_int("retrieval.top_k")
            )
        finally:
            store.close()
        return [Citation(n=i, source=r) for i, r in enumerate(results, start=1)]

    def sampling(self, info: ModelInfo) -> SamplingParams:
        """The model family's recommended sampling, with the user's answer length and choices."""
        return recommended(
            info,
            max_tokens=self.settings.get_int("model.max_answer_tokens"),
            temperature=self.settings.get_float("model.temperature"),
        )

    def ask(
        self,
        question: str,
        *,
        model_path: Path | None = None,
        use_docs: bool = True,
        cancel: threading.Event | None = None,
    ) -> Iterator[AskEvent]:
        request = self.load_request(model_path)
        language = answer_language(question)
        citations = self.retrieve(question) if use_docs else []
        model = self.host.load(request).result()
        yield ModelReady(model.info, model.plan)
        params = self.sampling(model.info)
        prompt, citations = self.host.submit(
            lambda: self._fit(model, question, citations, language, params.max_tokens)
        ).result()
        yield Retrieved(citations)
        stop = model.stop_markers()
        pieces: list[str] = []
        stopped = False
        try:
            for piece in self.host.stream(model, prompt, params, cancel=cancel, stop=stop):
                pieces.append(piece)
                yield Token(piece)
        except GenerationCancelledError:
            stopped = True
        text = "".join(pieces).strip()
        timings = model.last_timings
        assert timings is not None
        yield Finished(
            Answer(
                question=question,
                text=text,
                language=language,
                citations=citations,
                timings=timings,
                model=model.info,
                plan=model.plan,
                stopped=stopped,
                cited=cited_numbers(text, len(citations)),
            )
        )

    @staticmethod
    def _render(model: LocalModel, messages: list[dict[str, str]]) -> str:
        try:
            return model.render_chat(messages)
        except Exception:  # templates that refuse a system turn (Gemma 2, Mistral) raise here
            return model.render_chat(fold_system(messages))

    def _fit(
        self,
        model: LocalModel,
        question: str,
        citations: list[Citation],
        language: str,
        max_tokens: int,
    ) -> tuple[str, list[Citation]]:
        """Drop the weakest sources, then shorten the last one, until the prompt fits."""
        budget = model.n_ctx - max_tokens - _PROMPT_MARGIN
        kept = list(citations)
        while True:
            sources = [Source(c.n, c.path, c.heading, c.page, c.text) for c in kept]
            prompt = self._render(model, build_messages(question, sources, language))
            used = model.count_tokens(prompt)
            if used <= budget or not kept:
                return prompt, kept
            if len(kept) > 1:
                kept.pop()
                continue
            last = kept[0]
            keep_chars = int(len(last.text) * budget / used) - 64
            if keep_chars < 200:
                kept = []
                continue
            shortened = replace(last.source, text=last.text[:keep_chars] + "…")
            kept = [Citation(last.n, shortened)]
