"""A day of use, accelerated, in one process as the app runs it: the index service watching a
folder that someone keeps editing, searches, and questions answered by the local model and
saved with their answers. After each simulated hour it prints one JSON line with the process's
resident memory. Run as `python day_driver.py FOLDER HOURS` with LANTERNE_HOME set up (a
model configured, FOLDER watched); tests/test_load.py reads the figures."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

from lanterne.assistant.pipeline import Finished
from lanterne.context import AppContext
from lanterne.conversations.store import ConversationStore
from lanterne.index_service import IndexService, ServiceEvents
from lanterne.indexer.retriever import Retriever
from support.process_memory import rss_mb

EDITS_PER_HOUR = 30
SEARCHES_PER_HOUR = 20
QUESTIONS_PER_HOUR = 3
WORDS = ["sauvegarde", "miroir", "partition", "tarte", "paquet", "réseau", "install", "mirror"]


def _edit(folder: Path, rng: random.Random, hour: int) -> None:
    notes = sorted(folder.rglob("*.txt"))
    for i in range(EDITS_PER_HOUR):
        action = rng.choice(["rewrite", "rewrite", "add", "delete", "rename"])
        path = rng.choice(notes)
        if not path.exists():
            continue
        if action == "rewrite":
            path.write_text(f"Heure {hour}, note {i} : {rng.choice(WORDS)}.\n", "utf-8")
        elif action == "add":
            new = folder / f"h{hour:02d}-{i:02d}.txt"
            new.write_text(f"Nouvelle note sur {rng.choice(WORDS)}.\n", "utf-8")
            notes.append(new)
        elif action == "delete" and len(notes) > 20:
            path.unlink()
        elif action == "rename":
            path.rename(path.with_name(f"r{hour:02d}{i:02d}-{path.name}"))


def _caught_up(index: Path, folder: Path) -> bool:
    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True, timeout=30)
    try:
        indexed = {r[0] for r in conn.execute("SELECT path FROM documents WHERE status='indexed'")}
    finally:
        conn.close()
    return indexed == {str(p) for p in folder.rglob("*.txt")}


def main(folder: Path, hours: int) -> int:
    ctx = AppContext()
    service = IndexService(ctx, ServiceEvents(), embed=False)
    service.start()
    assistant = ctx.assistant
    conversations = ConversationStore(ctx.conversations_path)
    rng = random.Random(11)
    try:
        for hour in range(hours):
            _edit(folder, rng, hour)
            store = ctx.open_store()  # as each search of the app opens its own connection
            try:
                retriever = Retriever(store)
                for _ in range(SEARCHES_PER_HOUR):
                    retriever.search(" ".join(rng.sample(WORDS, 2)))
            finally:
                store.close()
            cid = conversations.create(f"Heure {hour}")
            for q in range(QUESTIONS_PER_HOUR):
                question = f"Que dit la note sur {rng.choice(WORDS)} ? ({q})"
                conversations.add_message(cid, "user", question)
                answer = next(e.answer for e in assistant.ask(question) if isinstance(e, Finished))
                conversations.add_message(cid, "assistant", answer.text)
            deadline = time.monotonic() + 120
            while not _caught_up(ctx.index_path, folder):
                if time.monotonic() > deadline:
                    print(json.dumps({"hour": hour, "error": "the index did not catch up"}))
                    return 1
                time.sleep(0.2)
            print(json.dumps({"hour": hour, "rss_mb": round(rss_mb(os.getpid()), 1)}), flush=True)
    finally:
        conversations.close()
        service.stop()
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
