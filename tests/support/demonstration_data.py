"""A conversations database with answers of every kind: rated, corrected, failed, declined,
stopped, cut short; for the demonstration-data export's tests (core, CLI and window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lanterne.conversations.store import ConversationStore, Status
from lanterne.foundation.database import transaction

OLD_DAY = "2026-01-10T09:30:00.000+00:00"  # when the "Budget" conversation was held


def source(n: int, path: Path, text: str, page: int | None = None) -> dict[str, Any]:
    return {
        "n": n, "chunk_id": n, "path": str(path), "page": page, "line": None,
        "heading": "", "snippet": text[:20], "highlights": [], "text": text, "score": 1.0,
        "lang": "fr",
    }  # fmt: skip


def _turn(
    store: ConversationStore,
    cid: int,
    question: str,
    answer: str,
    status: Status = "complete",
    sources: list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    store.add_message(cid, "user", question)
    return store.add_message(cid, "assistant", answer, status, sources or [], details)


def fill(store: ConversationStore, docs: Path) -> dict[str, int]:
    """Two conversations; returns the ids of the answers by a short name."""
    backups, budget = docs / "admin", docs / "finances"
    ids: dict[str, int] = {}
    fr = {"language": "fr", "backend": "local", "model": "tiny.gguf"}
    en = {"language": "en", "backend": "local", "model": "tiny.gguf"}
    first = store.create("Sauvegardes")
    ids["rsync"] = _turn(
        store, first, "Comment sauvegarder le serveur ?", "Avec rsync [1].", "complete",
        [source(1, backups / "sauvegardes.md", "Le serveur se sauvegarde avec rsync.")], fr,
    )  # fmt: skip
    store.set_rating(ids["rsync"], 1)
    ids["cron"] = _turn(
        store, first, "Et chaque nuit ?", "Oui [1].", "complete",
        [source(1, backups / "cron.md", "Une tâche cron lance rsync à 2 h.")], fr,
    )  # fmt: skip
    store.set_edit(ids["cron"], "Oui, une tâche cron lance rsync chaque nuit à 2 h [1].")
    ids["failed"] = _turn(store, first, "Et le prix ?", "Le modèle a échoué.", "error")
    second = store.create("Budget")
    ids["spend"] = _turn(
        store, second, "What did we spend?", "A lot [1].", "complete",
        [source(1, budget / "budget.pdf", "We spent 4 % less in 2025.", page=3)], en,
    )  # fmt: skip
    store.set_rating(ids["spend"], -1)
    ids["declined"] = _turn(
        store, second, "Tell me about salaries", "I cannot talk about salaries.", "complete",
        None, {"language": "en", "backend": "rules", "model": "rules"},
    )  # fmt: skip
    ids["stopped"] = _turn(store, second, "And travel?", "Travel co", "stopped", None, en)
    ids["taxes"] = _turn(store, second, "And taxes?", "Tax", "interrupted", None, en)
    store.set_edit(ids["taxes"], "Taxes rose by 2 %.")
    with transaction(store.db):
        store.db.execute(
            "UPDATE messages SET created_at = ? WHERE conversation_id = ?", [OLD_DAY, second]
        )
    return ids
