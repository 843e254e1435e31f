"""Find the passages that best match a question, with BM25 over the FTS5 index.

The question's words are quoted one by one and OR-ed, so punctuation or FTS syntax typed by a user
("C++", "l'été", "NEAR") can never break the query; BM25 weighs rare words up and common ones down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lanterne.indexer.store import IndexStore

_WORD = re.compile(r"\w+", re.UNICODE)
_SNIPPET_TOKENS = 32


@dataclass(frozen=True)
class SearchResult:
    chunk_id: int
    path: str
    page: int | None
    line: int | None
    heading: str
    snippet: str
    text: str
    score: float
    lang: str

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "page": self.page,
            "heading": self.heading,
            "snippet": self.snippet,
            "score": round(self.score, 4),
            "lang": self.lang,
        }


def fts_query(question: str) -> str | None:
    words: list[str] = []
    for word in _WORD.findall(question.lower()):
        if (len(word) > 1 or word.isdigit()) and word not in words:
            words.append(word)
    if not words:
        return None
    return " OR ".join('"' + w.replace('"', "") + '"' for w in words)


class Retriever:
    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def search(self, question: str, k: int = 5) -> list[SearchResult]:
        query = fts_query(question)
        if query is None or k <= 0:
            return []
        rows = self.store.db.execute(
            "SELECT c.id, d.path, c.page, c.line, c.heading, "
            f"snippet(chunks_fts, 0, '', '', '…', {_SNIPPET_TOKENS}), c.text, "
            "bm25(chunks_fts, 1.0, 0.5) AS rank, c.lang "
            "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            "JOIN documents d ON d.id = c.document_id "
            "WHERE chunks_fts MATCH ? AND d.status != 'error' ORDER BY rank LIMIT ?",
            [query, k],
        ).fetchall()
        return [
            SearchResult(
                chunk_id=r[0],
                path=r[1],
                page=r[2],
                line=r[3],
                heading=r[4] or "",
                snippet=r[5],
                text=r[6],
                score=-float(r[7]),
                lang=r[8] or "other",
            )
            for r in rows
        ]
