"""The model's reasoning in the chat: a section above the answer, collapsed unless opened.

Reasoning models write at length before they answer; shown in full it would bury the answer,
hidden it would leave the window silent for seconds. So a line says "Reasoning…" while it
lasts, then "Reasoning (N words)"; the line is a link (mouse, or Tab and Enter, as the chat's
other actions) that shows or hides the text. The reasoning is kept apart from the answer's
Markdown: never a citation link, never in what Copy takes.
"""

from __future__ import annotations

import html

from lanterne.foundation.translation import _, ngettext

TOGGLE = "action:reasoning:"  # + the turn's index
# While the turn streams, an opened section shows the end of the text: the chat lays out the
# streaming turn again at every burst (about 0.25 ms per 1,000 characters here), and a long
# reasoning runs past 100,000. All of it is shown once the answer is over.
LIVE_CHARS = 12_000


def toggle_href(index: int) -> str:
    return f"{TOGGLE}{index}"


def word_count(text: str) -> int:
    return len(text.split())


def reasoning_label(text: str, live: bool) -> str:
    """The section's line: said while the model still reasons, counted once it answers."""
    if live:
        return _("Reasoning…")
    n = word_count(text)
    return ngettext("Reasoning ({n} word)", "Reasoning ({n} words)", n).format(n=n)


def toggle_text(text: str, live: bool, opened: bool) -> str:
    """The link's words: what it is and what a click does, as a screen reader reads it when
    Tab reaches it (the arrow beside it is not part of the link, so it is not read out)."""
    action = _("hide") if opened else _("show")
    return _("{reasoning} — {action}").format(reasoning=reasoning_label(text, live), action=action)


def reasoning_html(
    index: int,
    text: str,
    live: bool,
    opened: bool,
    colours: tuple[str, str],
    streaming: bool = False,
) -> str:
    """The section, in the chat's HTML: its line, and the text below it when opened (its end
    only while the turn is `streaming`), set apart on a shaded ground: `colours` are the text's
    (muted) and the ground's."""
    muted, shade = colours
    arrow = "▾" if opened else "▸"
    words = html.escape(toggle_text(text, live, opened))
    link = f'<a href="{toggle_href(index)}">{words}</a>'
    parts = [f'<p style="color:{muted}">{arrow} {link}</p>']
    if opened and text.strip():
        shown = text.strip()
        if streaming and len(shown) > LIVE_CHARS:
            cut = shown[-LIVE_CHARS:]
            shown = "…" + cut[cut.find(" ") + 1 :] if " " in cut else "…" + cut
        paragraphs = "".join(
            f"<p>{html.escape(p.strip()).replace(chr(10), '<br/>')}</p>"
            for p in shown.split("\n\n")
            if p.strip()
        )
        parts.append(
            f'<table width="100%" cellpadding="8" bgcolor="{shade}">'
            f'<tr><td style="color:{muted}">{paragraphs}</td></tr></table>'
        )
    return "".join(parts)


def indicator_html(live: bool, muted: str) -> str:
    """The compact form (quick ask): a line while the model reasons, nothing once it answers."""
    return f'<p style="color:{muted}"><i>{html.escape(_("Reasoning…"))}</i></p>' if live else ""
