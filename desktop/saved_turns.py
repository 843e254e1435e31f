"""A saved conversation as the chat shows it, and as history for its next question.

The chat shows the user's corrections; the model's history keeps its own answers, as it did
when the answers were written (a correction is a note for the record and the export).
"""

from __future__ import annotations

from lanterne.assistant.answer import Citation
from lanterne.assistant.prompt import PastTurn
from lanterne.conversations.store import Message
from lanterne.desktop.chat_view import Turn
from lanterne.desktop.store_thread import RowRef
from lanterne.foundation.translation import _


def turns_from_messages(messages: list[Message]) -> tuple[list[Turn], list[PastTurn]]:
    turns: list[Turn] = []
    history: list[PastTurn] = []
    for message in messages:
        if message.role == "user":
            turns.append(Turn(question=message.text, finished=True))
            continue
        if not turns:
            continue
        turn = turns[-1]
        turn.answer = message.shown_text
        turn.reasoning = message.reasoning
        turn.message = RowRef(message.id)
        turn.rating = message.rating
        turn.original = message.text if message.edited_text is not None else None
        turn.citations = [Citation.from_record(r) for r in message.sources]
        if message.status == "stopped":
            turn.status = _("Stopped.")
        elif message.status in ("interrupted", "streaming"):
            turn.status = _("Interrupted: Lanterne closed before this answer was finished.")
        elif message.status == "error":
            turn.status = str(message.details.get("error") or _("This answer failed."))
            turn.error = True
        if message.text and message.status != "error":
            sources = tuple(c.as_source() for c in turn.citations)
            history.append(PastTurn(turn.question, message.text, sources, message.reasoning))
    return turns, history
