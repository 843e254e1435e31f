"""Find the passages that best match a question, with BM25 over French and English stems.

Each meaningful word of the question is quoted under both its stems and the terms are OR-ed, so
punctuation or FTS syntax typed by a user ("C++", "l'été", "NEAR") can never break the query; BM25
weighs rare words up and common ones down.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from lanterne.foundation.stemming import question_terms
from lanterne.indexer import folder_presence
from lanterne.indexer.embedding import TextEmbedder, model_key
from lanterne.indexer.snippets import Snippet, make_snippet
from lanterne.indexer.store import IndexStore
from lanterne.indexer.term_pruning import CANDIDATES, TermCounts, plan, rescore
from lanterne.indexer.vectors import VectorIndex
from lanterne.indexer.word_neighbours import neighbours

Mode = Literal["hybrid", "lexical", "dense"]
POOL = 50  # candidates each side brings to the fusion and to the diversification
# The fusion: RRF's constant and each side's weight, chosen on the tuning questions only
# (bench/retrieval_quality.py --explore): words slightly ahead of meaning, and a smaller k
# (rank 1 -> 1/21) that lets a passage both sides rank first stand out more.
RRF_K = 20
LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 0.7
MORE_SHOWN = 3  # a document's other matching passages listed under its best one
# Which passages count as "also matching" under a document: those among the best 20 (dense
# search ranks every passage, so "in the candidate pool" would say "40 more" of any long file).
MORE_WINDOW = 20
_vector_indexes: dict[str, VectorIndex] = {}  # one per index file, shared by this process


@dataclass(frozen=True)
class SearchFilters:
    """Which chunks a search may return; an empty field does not filter."""

    folders: tuple[Path, ...] = ()
    types: tuple[str, ...] = ()  # file suffixes without the dot: "pdf", "docx"
    languages: tuple[str, ...] = ()  # "fr", "en", "other"
    modified_after: datetime | None = None
    modified_before: datetime | None = None

    def sql(self) -> tuple[str, list[object]]:
        """A WHERE fragment over `d` (documents) and `c` (chunks), and its parameters."""
        clauses: list[str] = []
        params: list[object] = []
        if self.folders:
            parts = []
            for folder in self.folders:
                prefix = str(folder).rstrip(os.sep) + os.sep
                parts.append("substr(d.path, 1, ?) = ?")
                params += [len(prefix), prefix]
            clauses.append("(" + " OR ".join(parts) + ")")
        if self.types:
            parts = []
            for suffix in self.types:
                parts.append("lower(d.path) LIKE ? ESCAPE '\\'")
                escaped = suffix.lower().lstrip(".").replace("\\", "\\\\").replace("%", "\\%")
                params.append("%." + escaped.replace("_", "\\_"))
            clauses.append("(" + " OR ".join(parts) + ")")
        if self.languages:
            clauses.append("c.lang IN (" + ", ".join("?" for _ in self.languages) + ")")
            params += list(self.languages)
        if self.modified_after is not None:
            clauses.append("d.mtime_ns >= ?")
            params.append(_ns(self.modified_after))
        if self.modified_before is not None:
            clauses.append("d.mtime_ns < ?")
            params.append(_ns(self.modified_before))
        return " AND ".join(clauses) or "1", params


NO_FILTERS = SearchFilters()
_MAX_NS = 2**63 - 1


def _ns(moment: datetime) -> int:
    """As the index stores mtimes (int64 ns), clamped: "after 2999" is valid and matches nothing."""
    return max(-_MAX_NS, min(_MAX_NS, int(moment.timestamp() * 1_000_000_000)))


@dataclass(frozen=True)
class SearchResult:
    chunk_id: int
    path: str
    page: int | None
    line: int | None
    heading: str
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # spans of matched words within `snippet`
    text: str
    score: float
    lang: str
    offline: bool = False  # its folder is not connected: the file cannot be opened now

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "page": self.page,
            "line": self.line,
            "heading": self.heading,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
            "score": round(self.score, 4),
            "lang": self.lang,
            "offline": self.offline,
        }


@dataclass(frozen=True)
class DocumentHit:
    """A document in search results: its best passage, then others that also matched."""

    best: SearchResult
    more: tuple[SearchResult, ...]  # the next best passages of it, at most MORE_SHOWN
    more_count: int  # how many other passages of it matched (may exceed len(more))

    def to_json(self) -> dict[str, object]:
        return {
            **self.best.to_json(),
            "more_count": self.more_count,
            "more": [r.to_json() for r in self.more],
        }


def fts_query(question: str, drop: frozenset[str] = frozenset()) -> str | None:
    terms = [t for t in question_terms(question) if t not in drop]
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


def fuse(
    *rankings: list[tuple[int, float]], weights: Sequence[float] = ()
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: ranks, not scores, so BM25 and cosine need no common scale.
    `weights`, one per ranking, scale its votes (1 without)."""
    fused: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        weight = weights[i] if i < len(weights) else 1.0
        for rank, (chunk_id, _score) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + rank)
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


class Retriever:
    """Lexical (BM25 over stems), dense (embeddings) or both fused; without an embedding model,
    or before any chunk has its vector, hybrid is simply lexical."""

    def __init__(self, store: IndexStore, embedder: TextEmbedder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self._term_counts = TermCounts(store.db)

    def search(
        self,
        question: str,
        k: int = 5,
        filters: SearchFilters = NO_FILTERS,
        mode: Mode = "hybrid",
    ) -> list[SearchResult]:
        """The k best passages for a model to read: each matching page's best passage before
        any second one (five passages of one page would hide four other pages that also answer,
        and cite one source five times); a page is a document, or one page of a paged document
        (a PDF's sections are as distinct as a site's pages). With fewer matching pages than k,
        the rest is filled from the same pages."""
        if k <= 0:
            return []
        ranked = self._ranked(question, max(POOL, k), filters, mode)
        groups = self._grouped(ranked, by_page=True)
        firsts = [group[0] for group in groups]
        others = [item for group in groups for item in group[1:]]
        return self.results((firsts + others)[:k], question)

    def search_documents(
        self,
        question: str,
        k: int = 10,
        filters: SearchFilters = NO_FILTERS,
        mode: Mode = "hybrid",
    ) -> list[DocumentHit]:
        """The k best documents for a person to open: each with its best passage and the
        other passages of it that matched, best first (never the same document twice)."""
        if k <= 0:
            return []
        ranked = self._ranked(question, max(POOL, k), filters, mode)
        window = {chunk_id for chunk_id, _score in ranked[:MORE_WINDOW]}
        groups = [
            [group[0], *(item for item in group[1:] if item[0] in window)]
            for group in self._grouped(ranked)[:k]
        ]
        shown = [item for group in groups for item in group[: 1 + MORE_SHOWN]]
        by_id = {r.chunk_id: r for r in self.results(shown, question)}
        hits = []
        for group in groups:
            found = [by_id[chunk_id] for chunk_id, _score in group if chunk_id in by_id]
            if found:
                hits.append(DocumentHit(found[0], tuple(found[1:]), len(group) - 1))
        return hits

    def _ranked(
        self, question: str, pool: int, filters: SearchFilters, mode: Mode
    ) -> list[tuple[int, float]]:
        if self.embedder is None or mode == "lexical":
            return self.lexical(question, pool, filters)
        if mode == "dense":
            return self.dense(question, pool, filters)
        lexical = self.lexical(question, pool, filters)
        dense = self.dense(question, pool, filters)
        return fuse(lexical, dense, weights=(LEXICAL_WEIGHT, DENSE_WEIGHT))

    def _grouped(
        self, ranked: list[tuple[int, float]], by_page: bool = False
    ) -> list[list[tuple[int, float]]]:
        """The ranked passages by document (or by page of a document), in the order of each
        group's best passage."""
        if not ranked:
            return []
        ids = [chunk_id for chunk_id, _score in ranked]
        rows = self.store.db.execute(
            f"SELECT id, document_id, page FROM chunks WHERE id IN ({', '.join('?' for _ in ids)})",
            ids,
        ).fetchall()
        group_of = {int(r[0]): (r[1], r[2] if by_page else None) for r in rows}
        groups: dict[tuple[int, int | None], list[tuple[int, float]]] = {}
        for item in ranked:
            key = group_of.get(item[0])
            if key is not None:  # else deleted meanwhile
                groups.setdefault(key, []).append(item)
        return list(groups.values())

    def lexical(self, question: str, k: int, filters: SearchFilters) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the k best chunks, best first."""
        size = self.store.db.execute("SELECT max(rowid) FROM chunks").fetchone()[0] or 0
        if self.embedder is not None:  # words no passage holds: the index's nearest in meaning
            question = " ".join([question, *neighbours(self.store, self.embedder, question)])
        terms = plan(question_terms(question), size, self._term_counts)
        query = fts_query(question, terms.dropped)
        if query is None:
            return []
        limit = max(CANDIDATES, k) if terms.dropped else k
        if filters == NO_FILTERS:  # no join: a failed document has no chunks left to find
            rows = self.store.db.execute(
                "SELECT rowid, bm25(chunks_stems, 1.0, 0.5) AS rank FROM chunks_stems "
                "WHERE chunks_stems MATCH ? ORDER BY rank LIMIT ?",
                [query, limit],
            ).fetchall()
        else:
            where, params = filters.sql()
            rows = self.store.db.execute(
                "SELECT s.rowid, bm25(chunks_stems, 1.0, 0.5) AS rank "
                "FROM chunks_stems s JOIN chunks c ON c.id = s.rowid "
                "JOIN documents d ON d.id = c.document_id "
                f"WHERE chunks_stems MATCH ? AND {where} ORDER BY rank LIMIT ?",
                [query, *params, limit],
            ).fetchall()
        if terms.dropped:
            return rescore(self.store.db, [int(r[0]) for r in rows], terms, k)
        return [(int(r[0]), -float(r[1])) for r in rows]

    def dense(self, question: str, k: int, filters: SearchFilters) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the k nearest chunks that still exist and pass the filters."""
        if self.embedder is None or not question.strip():
            return []
        index = _vector_indexes.setdefault(str(self.store.path), VectorIndex())
        if not index.refresh(self.store.db, model_key(self.embedder)):
            return []
        query = self.embedder.embed_query(question)
        wanted = k * 4 if filters != NO_FILTERS else k + 16  # deleted or filtered out
        while True:
            found = index.search(query, wanted)
            where, params = filters.sql()
            ids = [chunk_id for chunk_id, _score in found]
            kept = {
                int(r[0])
                for r in self.store.db.execute(
                    "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
                    f"WHERE c.id IN ({', '.join('?' for _ in ids)}) AND {where}",
                    [*ids, *params],
                ).fetchall()
            }
            ranked = [(chunk_id, score) for chunk_id, score in found if chunk_id in kept]
            if len(ranked) >= k or len(found) < wanted or wanted >= 4096:
                return ranked[:k]
            wanted *= 4

    def results(self, ranked: list[tuple[int, float]], question: str) -> list[SearchResult]:
        if not ranked:
            return []
        ids = [chunk_id for chunk_id, _score in ranked]
        rows = self.store.db.execute(
            "SELECT c.id, d.path, c.page, c.line, c.heading, c.text, c.lang, d.folder_id "
            "FROM chunks c JOIN documents d ON d.id = c.document_id "
            f"WHERE c.id IN ({', '.join('?' for _ in ids)})",
            ids,
        ).fetchall()
        by_id = {int(r[0]): r for r in rows}
        away = folder_presence.away(self.store.db, {int(r[7]) for r in rows})
        terms = question_terms(question)
        results = []
        for chunk_id, score in ranked:
            r = by_id.get(chunk_id)
            if r is None:  # deleted between the two queries by the indexer
                continue
            lang = r[6] or "other"
            snippet: Snippet = make_snippet(r[5], lang, terms)
            results.append(
                SearchResult(
                    chunk_id=chunk_id,
                    path=r[1],
                    page=r[2],
                    line=r[3],
                    heading=r[4] or "",
                    snippet=snippet.text,
                    highlights=snippet.highlights,
                    text=r[5],
                    score=score,
                    lang=lang,
                    offline=int(r[7]) in away,
                )
            )
        return results
