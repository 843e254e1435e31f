"""`lanterne serve`: an OpenAI-compatible API on this computer, for the tools people already use.

`server.ApiServer` runs it (the CLI in the foreground, the app while Settings › Other apps is on);
`access` keeps its token; `app` routes `/v1/models`, `/v1/chat/completions` (the chat model, and
`lanterne-documents`: answers from the indexed documents with citations) and `/v1/embeddings`.
"""
