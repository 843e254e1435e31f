"""E-mail: single messages (.eml) and mailboxes (.mbox), with the standard library's parser.

Each message is a section headed by its subject, with sender and date as its first passage
and its text body after (the HTML body, through the HTML extractor, when there is no plain
text). In a mailbox the message's position is the page a citation points at.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

from lanterne.foundation.translation import _
from lanterne.indexer.document import Block, ExtractedDocument, ExtractionError
from lanterne.indexer.extract.html import extract_html
from lanterne.indexer.extract.text import paragraphs_with_lines
from lanterne.indexer.reasons import EMPTY_MAILBOX, NOT_EMAIL, worded

_SEPARATOR = re.compile(rb"(?:\A|(?<=\n\n)|(?<=\n\r\n))From [^\n]*\n")
_QUOTED_FROM = re.compile(rb"(?m)^>(>*From )")


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


def _header(message: EmailMessage, name: str) -> str:
    """A header's value, decoded; as written when it cannot be parsed."""
    try:
        return str(message.get(name, "") or "")
    except Exception:
        # HeaderParseError, ValueError... on malformed addresses and dates
        raw = (str(v) for k, v in message.raw_items() if k.lower() == name)
        return next(raw, "")


def _message_blocks(message: EmailMessage, page: int | None) -> list[Block]:
    subject = _header(message, "subject").strip() or _("(no subject)")
    header = _("From {sender}, {date}").format(
        sender=_header(message, "from") or "?", date=_header(message, "date") or "?"
    )
    heading = (subject,)
    return [Block(header, heading, page=page)] + [
        Block(text, heading, page=page) for text in _body(message) if text
    ]


def extract_eml(path: Path, data: bytes) -> ExtractedDocument:
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not (message.keys() or message.get_payload()):
        raise ExtractionError(worded(NOT_EMAIL))
    blocks = _message_blocks(message, None)
    subject = _header(message, "subject").strip()
    return ExtractedDocument(path=path, title=subject or path.stem, blocks=blocks)


def mbox_messages(data: bytes) -> list[bytes]:
    """The messages of an mbox: each starts with a "From " line at the top of the file or after
    a blank line, as `mailbox.mbox` reads them; quoted ">From " lines are unquoted (mboxrd)."""
    return [_QUOTED_FROM.sub(rb"\1", part) for part in _SEPARATOR.split(data) if part.strip()]


def extract_mbox(path: Path, data: bytes) -> ExtractedDocument:
    blocks: list[Block] = []
    for number, raw in enumerate(mbox_messages(data), start=1):
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if isinstance(message, EmailMessage):
            blocks += _message_blocks(message, number)
    if not blocks:
        raise ExtractionError(worded(EMPTY_MAILBOX))
    return ExtractedDocument(path=path, title=path.stem, blocks=blocks)
