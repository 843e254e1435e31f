"""The one spelling of an OpenAI-compatible server's address: what the keychain, the policy's
allowed servers and the remote backend compare."""

from __future__ import annotations


def normalize_base_url(url: str) -> str:
    """Users paste either "https://host" or "https://host/v1/"; both mean the same server.

    The keychain stores keys under this form, so set-key and the backend agree.
    """
    return url.strip().rstrip("/").removesuffix("/v1")
