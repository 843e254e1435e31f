"""How a document in search results tells of its other matching passages, in words shared by
`lanterne search` and the Search box, so both say the same thing in both languages."""

from __future__ import annotations

from lanterne.foundation.translation import ngettext
from lanterne.indexer.retriever import DocumentHit


def more_passages_label(hit: DocumentHit) -> str:
    """ "2 more passages in this document (pages 4, 7)"; the pages only where there are some."""
    text = ngettext(
        "{count} more passage in this document",
        "{count} more passages in this document",
        hit.more_count,
    ).format(count=hit.more_count)
    pages = sorted({r.page for r in hit.more if r.page is not None and r.page != hit.best.page})
    if pages:
        shown = ", ".join(str(page) for page in pages)
        text += " " + ngettext("(page {pages})", "(pages {pages})", len(pages)).format(pages=shown)
    return text
