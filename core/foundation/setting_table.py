"""The declarations of every setting: key, type, default, description, environment override.

Kept apart from the code that loads and checks them (`settings.py`), which re-exports them; the
reference `docs/settings.md` is generated from this table
(`python -m lanterne.foundation.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass

Value = str | int | float | bool


@dataclass(frozen=True)
class Setting:
    key: str
    type: type[str] | type[int] | type[float] | type[bool]
    default: Value
    description: str
    env: str | None = None  # an environment variable that overrides the stored value
    choices: tuple[str, ...] = ()  # the only values a str setting accepts, when not empty


SETTINGS: tuple[Setting, ...] = (
    Setting("model.path", str, "", "GGUF model file used for answers.", env="LANTERNE_MODEL"),
    Setting("model.context_size", int, 4096, "Context window in tokens (prompt plus answer)."),
    Setting("model.threads", int, 0, "CPU threads for the model; 0 picks the physical cores."),
    Setting("model.max_answer_tokens", int, 512, "Longest answer, in tokens."),
    Setting(
        "model.answer_language",
        str,
        "question",
        "Language of the answers, whatever the language of the sources.",
        choices=("question", "fr", "en"),
    ),
    Setting(
        "answer.grounding",
        str,
        "documents",
        "What answers may draw on: 'documents' only (else they say the documents do not hold "
        "the answer), or 'general' knowledge too, said apart from what the sources give.",
        choices=("documents", "general"),
    ),
    Setting(
        "answer.length",
        str,
        "normal",
        "Length of the answers.",
        choices=("short", "normal", "detailed"),
    ),
    Setting(
        "answer.tone",
        str,
        "neutral",
        "Tone of the answers.",
        choices=("neutral", "friendly", "formal"),
    ),
    Setting(
        "answer.reasoning",
        str,
        "low",
        "How much a model that thinks before it answers (gpt-oss, Qwen3...) may reason: 'off' "
        "where the model allows it, 'low', 'medium' or 'high'. The reasoning is shown apart "
        "from the answer, never in it. For local models; a server decides for itself.",
        choices=("off", "low", "medium", "high"),
    ),
    Setting(
        "house.instructions",
        str,
        "",
        "Your organisation's instruction, added to the model's for every answer.",
    ),
    Setting(
        "house.decline_topics",
        str,
        "",
        "Topics Lanterne declines to answer about, separated by ';' (no model is asked).",
    ),
    Setting(
        "house.masked_words",
        str,
        "",
        "Words and names masked in every answer, separated by ';'.",
    ),
    Setting("house.disclaimer", str, "", "A notice added under every answer."),
    Setting(
        "house.allow_export",
        bool,
        True,
        "Let people export their conversations as demonstration data (to a file they choose).",
    ),
    Setting(
        "model.temperature",
        float,
        -1.0,
        "Sampling temperature; -1 uses the value the model's authors recommend.",
    ),
    Setting(
        "offload.gpu_layers",
        int,
        -1,
        "Layers on the GPU; -1 lets the planner choose, 0 runs on the CPU only.",
    ),
    Setting(
        "offload.cpu_expert_layers",
        int,
        -1,
        "MoE models: keep the experts of the first N layers in RAM; -1 lets the planner choose.",
    ),
    Setting(
        "offload.kv_cache_type", str, "auto", "KV cache precision.", choices=("auto", "f16", "q8_0")
    ),
    Setting(
        "offload.flash_attention", str, "auto", "Flash attention.", choices=("auto", "on", "off")
    ),
    Setting(
        "engine.backend",
        str,
        "local",
        "Who answers: the model file on this machine, or the OpenAI-compatible server below.",
        env="LANTERNE_BACKEND",
        choices=("local", "remote"),
    ),
    Setting(
        "remote.url",
        str,
        "",
        "OpenAI-compatible server (vLLM, llama.cpp server, Mistral, Azure); its key is kept in "
        "the system keychain.",
        env="LANTERNE_REMOTE_URL",
    ),
    Setting("remote.model", str, "", "Model name on the server; empty when it serves only one."),
    Setting(
        "remote.context_size",
        int,
        8192,
        "Context window of the server's model, in tokens, used to fit long conversations.",
    ),
    Setting(
        "models.directory",
        str,
        "",
        "Folder for downloaded models; empty uses 'models' in the data directory.",
        env="LANTERNE_MODELS_DIR",
    ),
    Setting(
        "models.hub_url",
        str,
        "",
        "Hugging Face hub or an organisation's mirror for downloads; empty uses HF_ENDPOINT, "
        "else https://huggingface.co.",
    ),
    Setting("retrieval.top_k", int, 5, "How many passages are given to the model as sources."),
    Setting(
        "retrieval.embedding_model",
        str,
        "",
        "GGUF embedding model for meaning-based and cross-language search; empty uses the "
        "built-in multilingual-e5-small, 'none' searches by words only.",
        env="LANTERNE_EMBEDDING_MODEL",
    ),
    Setting(
        "retrieval.mode",
        str,
        "hybrid",
        "'hybrid' (words and meaning, fused), 'lexical' (words only) or 'dense' (meaning only).",
        choices=("hybrid", "lexical", "dense"),
    ),
    Setting("index.chunk_chars", int, 1200, "Largest passage stored in the index, in characters."),
    Setting("index.chunk_overlap_chars", int, 150, "Text repeated between split passages."),
    Setting("index.max_file_mb", int, 50, "Files larger than this are skipped, with a reason."),
    Setting(
        "index.ignore_patterns",
        str,
        "",
        "Never index these, in any watched folder: patterns as in .gitignore, separated by ';' "
        "(for example: *.tmp.md; drafts/; secret-*).",
    ),
    Setting(
        "index.readers",
        int,
        0,
        "Processes reading files in parallel; 0 picks one per core, at most 4.",
    ),
    Setting(
        "index.file_time_limit_s",
        int,
        120,
        "A file still being read after this many seconds is skipped, with a reason.",
    ),
    Setting(
        "index.file_memory_limit_mb",
        int,
        2048,
        "Memory a file's reader may use before the file is skipped (Linux and macOS).",
    ),
    Setting(
        "index.missing_folder_days",
        int,
        7,
        "Days a watched folder may be missing, while the disk that held it is still there, "
        "before Lanterne says it looks deleted or moved and offers to remove it from the index. "
        "A folder on a drive or share that is not connected keeps its documents until it comes "
        "back; nothing is removed without you.",
    ),
    Setting(
        "ui.language",
        str,
        "",
        "Language of the interface (a code such as fr or en); empty follows the system.",
    ),
    Setting(
        "ui.theme",
        str,
        "system",
        "Light or dark appearance; 'system' follows the operating system.",
        choices=("system", "light", "dark"),
    ),
    Setting(
        "ui.start_at_login",
        bool,
        False,
        "Start Lanterne in the background when you log in (tray, indexing, the shortcut).",
    ),
    Setting(
        "ui.first_run_done",
        bool,
        False,
        "The first-run wizard has been completed (it shows at start until then).",
    ),
    Setting(
        "ui.close_to_tray",
        bool,
        True,
        "Closing the window keeps Lanterne in the tray (indexing and the hotkey go on).",
    ),
    Setting(
        "quick_ask.hotkey",
        str,
        "ctrl+shift+space",
        "Global shortcut of the quick-ask window, as modifiers+key; empty turns it off.",
    ),
    Setting(
        "quick_ask.prefill",
        str,
        "selection",
        "What the quick-ask window starts with: the selected text, the clipboard, or nothing.",
        choices=("selection", "clipboard", "none"),
    ),
    Setting(
        "api.enabled",
        bool,
        False,
        "Let other apps on this computer use Lanterne.",
    ),
    Setting(
        "api.host",
        str,
        "127.0.0.1",
        "Address the API listens on; any other than 127.0.0.1 opens it to the network.",
    ),
    Setting("api.port", int, 8765, "Port the API listens on."),
    Setting(
        "api.allowed_origins",
        str,
        "",
        "Web pages (origins such as https://intranet.example.org) allowed to call the API from "
        "a browser, separated by spaces or commas; none by default.",
    ),
    Setting(
        "api.queue_limit",
        int,
        8,
        "Requests from other apps that may wait for the model; more get 'busy, retry later'.",
    ),
)
