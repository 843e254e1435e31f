"""Prompts of an exact token count, so both sides of a speed comparison evaluate the same work."""

from __future__ import annotations

from lanterne.engine.runtime import LocalModel

# Plain prose the models continue happily (no chat template: a continuation has no end of turn).
TEXT = (
    "Le système de paquets de Debian repose sur dpkg et APT. dpkg installe les fichiers .deb, "
    "tandis qu'APT résout les dépendances et télécharge les paquets depuis les miroirs "
    "configurés dans sources.list. The installer asks for a mirror close to you; the mirror "
    "deb.debian.org redirects every request to a nearby server, so it is a good default. "
    "Guided partitioning creates a root partition and a swap partition, and LVM lets you "
    "resize logical volumes later without repartitioning the disk. "
)


# A passage of sources in French, repeated to make long retrieved contexts.
PASSAGE = (
    "Le système de paquets de Debian repose sur dpkg et APT : dpkg installe les fichiers .deb, "
    "APT résout les dépendances et télécharge les paquets depuis les miroirs de sources.list. "
)


def exact_prompt(model: LocalModel, tokens: int) -> str:
    """A prefix of TEXT (repeated) of which the model evaluates exactly `tokens` tokens.

    `count_tokens` counts the BOS that LocalModel.stream adds for models that want one, as
    llama-bench's pp count does (the perf counters check it).
    """

    def count(text: str) -> int:
        return model.count_tokens(text)

    text = TEXT * (1 + tokens // 20)
    while count(text) < tokens:
        text += TEXT
    lo, hi = 1, len(text)  # the shortest prefix with at least `tokens` tokens
    while lo < hi:
        mid = (lo + hi) // 2
        if count(text[:mid]) >= tokens:
            hi = mid
        else:
            lo = mid + 1
    prompt = text[:lo]
    if count(prompt) != tokens:
        raise RuntimeError(f"no prefix of the text is exactly {tokens} tokens")
    return prompt
