"""The objects one running Lanterne shares, built from settings and the data directory."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lanterne.embedding_model import close_embedders
from lanterne.foundation import paths
from lanterne.foundation.settings import Settings
from lanterne.indexer.ignore_rules import parse_patterns
from lanterne.indexer.indexing import Indexer, IndexOptions
from lanterne.indexer.reader_pool import available_cores
from lanterne.indexer.store import IndexStore
from lanterne.model_gate import ModelGate

if TYPE_CHECKING:  # imported when first used: `search` and `index` never load the engine
    from lanterne.assistant.pipeline import Assistant
    from lanterne.engine.host import ModelHost


class AppContext:
    def __init__(self, settings: Settings | None = None, index_path: Path | None = None) -> None:
        self.settings = settings or Settings()
        self.index_path = index_path or paths.index_db_path()
        self.conversations_path = paths.conversations_db_path()

    def index_options(self) -> IndexOptions:
        return IndexOptions(
            chunk_chars=self.settings.get_int("index.chunk_chars"),
            chunk_overlap=self.settings.get_int("index.chunk_overlap_chars"),
            max_file_bytes=self.settings.get_int("index.max_file_mb") * 1024 * 1024,
            readers=self.settings.get_int("index.readers") or min(4, available_cores()),
            file_time_limit_s=self.settings.get_int("index.file_time_limit_s"),
            file_memory_limit_mb=self.settings.get_int("index.file_memory_limit_mb"),
            ignore_patterns=parse_patterns(self.settings.get_str("index.ignore_patterns")),
        )

    def open_store(self) -> IndexStore:
        """A new connection: one per thread, as SQLite wants."""
        return IndexStore(self.index_path)

    def indexer(self) -> Indexer:
        return Indexer(self.open_store(), self.index_options())

    @cached_property
    def host(self) -> ModelHost:
        from lanterne.engine.host import ModelHost

        return ModelHost()

    @cached_property
    def model_gate(self) -> ModelGate:
        """Turns at the in-process model: the person at the keyboard first, then other apps;
        with a remote backend there is none to share, and no turns."""
        return ModelGate(
            self.settings.get_int("api.queue_limit"),
            applies=lambda: self.settings.get_str("engine.backend") != "remote",
        )

    @cached_property
    def assistant(self) -> Assistant:
        from lanterne.assistant.pipeline import Assistant

        return Assistant(self.settings, self.host, self.index_path)

    def release_model_files(self, paths: Sequence[Path]) -> None:
        """Unload the chat model if it comes from these files, about to be deleted; a process
        that never loaded one has nothing to let go of (and does not load the engine)."""
        if "host" in self.__dict__:
            self.host.release(paths)

    def close(self) -> None:
        if "host" in self.__dict__:
            self.host.shutdown()
        close_embedders()  # llama.cpp objects must not be left to the interpreter's exit
