"""E-mail: single messages (.eml) and mailboxes (.mbox), with the standard library's parser.

Each message is a section headed by its subject, with sender and date as its first passage
and its text body after (the HTML body, through the HTML extractor, when there is no plain
text). In a mailbox the message's position is the page a citation points at.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import tempfile
from email.message import EmailMessage
from pathlib import Path

from lanterne.indexer.document import Block, ExtractedDocument, ExtractionError
from lanterne.indexer.extract.html import extract_html
from lanterne.indexer.extract.text import paragraphs_with_lines
from lanterne.translation import _


def _body(message: EmailMessage) -> list[str]:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return []
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: the bytes as Latin-1
        payload = part.get_payload(decode=True)
        content = payload.decode("latin-1") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        return [b.text for b in extract_html(Path("body.html"), content.encode()).blocks]
    return [" ".join(p.split()) for p, _line in paragraphs_with_lines(content)]


def _message_blocks(message: EmailMessage, page: int | None) -> list[Block]:
    subject = str(message.get("subject", "") or "").strip() or _("(no subject)")
    header = _("From {sender}, {date}").format(
        sender=message.get("from", "?"), date=message.get("date", "?")
    )
    heading = (subject,)
    return [Block(header, heading, page=page)] + [
        Block(text, heading, page=page) for text in _body(message) if text
    ]


def extract_eml(path: Path, data: bytes) -> ExtractedDocument:
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not (message.keys() or message.get_payload()):
        raise ExtractionError(_("The file is not an e-mail message."))
    blocks = _message_blocks(message, None)
    subject = str(message.get("subject", "") or "").strip()
    return ExtractedDocument(path=path, title=subject or path.stem, blocks=blocks)


def extract_mbox(path: Path, data: bytes) -> ExtractedDocument:
    # mailbox reads from a path; the bytes already read are what gets indexed.
    with tempfile.NamedTemporaryFile(suffix=".mbox") as copy:
        copy.write(data)
        copy.flush()
        box = mailbox.mbox(copy.name, create=False)
        blocks: list[Block] = []
        try:
            for number, raw in enumerate(box, start=1):
                message = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
                if isinstance(message, EmailMessage):
                    blocks += _message_blocks(message, number)
        finally:
            box.close()
    if not blocks:
        raise ExtractionError(_("The mailbox holds no message."))
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)
