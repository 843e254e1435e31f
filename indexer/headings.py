"""Headings of indexed documents, sampled across the whole index (for example questions).

The read is bounded whatever the index's size: `probes` documents, each the first indexed one
in its own slice of the documents' ids (slices of equal width, so every folder and every period
of the index can show and the same index always gives the same documents), and the first
`per_document` passages of each. At most one pass over the documents' primary key, and
`probes` x `per_document` passages read through their document's index.
"""

from __future__ import annotations

from dataclasses import dataclass

from lanterne.indexer.store import IndexStore

_SAMPLE = """
WITH RECURSIVE
  ends(lo, hi) AS (  -- apart, each is one step down the primary key; together, a scan
    SELECT (SELECT MIN(id) FROM documents), (SELECT MAX(id) FROM documents)),
  bounds(lo, width) AS (SELECT lo, (hi - lo) / :probes + 1 FROM ends),
  probe(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM probe WHERE n + 1 < :probes),
  picked(id) AS MATERIALIZED (
    SELECT (SELECT d.id FROM documents d
            WHERE d.id >= lo + n * width AND d.id < lo + (n + 1) * width
              AND d.status = 'indexed' AND (:lang IS NULL OR d.lang = :lang)
            ORDER BY d.id LIMIT 1)
    FROM probe, bounds)
SELECT d.id, d.folder_id, COALESCE(d.lang, ''), c.heading, COALESCE(c.lang, '')
FROM picked p
JOIN documents d ON d.id = p.id
JOIN chunks c ON c.id IN (
  SELECT id FROM chunks WHERE document_id = p.id ORDER BY id LIMIT :per_document)
WHERE COALESCE(c.heading, '') != ''
ORDER BY d.id, c.id
"""


@dataclass(frozen=True)
class Heading:
    document_id: int
    folder_id: int
    document_lang: str  # the language most of the document is in ("fr", "en", "other")
    path: str  # the passage's heading path, " › " between levels
    lang: str  # the language of the passage under it


def sample_headings(
    store: IndexStore, lang: str | None = None, probes: int = 24, per_document: int = 40
) -> list[Heading]:
    """Headings of up to `probes` documents spread over the index, in document order, then
    passage order; only documents in `lang` when given."""
    rows = store.db.execute(
        _SAMPLE, {"probes": probes, "per_document": per_document, "lang": lang}
    ).fetchall()
    return [Heading(int(r[0]), int(r[1]), r[2], r[3], r[4]) for r in rows]
