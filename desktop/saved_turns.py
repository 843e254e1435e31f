"""A saved conversation as the chat shows it, and as history for its next question."""

from __future__ import annotations

from lanterne.assistant.answer import Citation
from lanterne.assistant.prompt import PastTurn
from lanterne.conversations.store import Message
from lanterne.desktop.chat_view import Turn
from lanterne.translation import _


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
        turn.answer = message.text
        turn.citations = [Citation.from_record(r) for r in message.sources]
        if message.status == "stopped":
            turn.status = _("Stopped.")
        elif message.status in ("interrupted", "streaming"):
            turn.status = _("Interrupted: Lanterne closed before this answer was finished.")
        elif message.status == "error":
            turn.status = str(message.details.get("error") or _("This answer failed."))
            turn.error = True
        if turn.answer and message.status != "error":
            sources = tuple(c.as_source() for c in turn.citations)
            history.append(PastTurn(turn.question, turn.answer, sources))
    return turns, history
