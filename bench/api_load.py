"""`lanterne serve` under load: 8 streaming clients on loopback against the app's own server,
while its window keeps a 5 ms heartbeat; and the HTTP path's cost against an in-process `ask`.

    .venv/bin/python bench/api_load.py [--seconds 60] [--clients 8] [--tokens 48]
        [--queue-limit 8] [--runs 20] [--json]

The server runs as the app runs it: the real main window (offscreen), its `ApiService` started
from the settings (api.enabled, a free port), the Gemma test model as the chat model, the Debian
handbook's English edition indexed (words, and vectors from retrieval_quality.py's cache).
Other apps are another process: `--clients` threads there (httpx2, streaming, usage asked for)
send requests in turn for `--seconds`, half to the plain chat model and half to
`lanterne-documents`; a request answered 429 waits its Retry-After and is sent again. Each
request ends with `data: [DONE]` or counts as lost. Meanwhile the window asks one question of
its own (the person at the keyboard: served before the queue) and a heartbeat measures the
event loop's stalls (bench/gui_stalls.py's; target: none over 50 ms).

Then the overhead: time to first token of one question through `POST /v1/chat/completions`
(`lanterne-documents`, streaming) and through `ctx.assistant.ask` in this process, alternated,
`--runs` each, the model warm (the same question each time, so both find its prompt cached).
Time to first token under load includes the wait in the queue: what a client sees.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.corpora import handbook
from bench.gui_stalls import TARGET_MS, Heartbeat, wait_for
from bench.models import embedding_model, gemma_test_model
from bench.quiet import ForeignLoad, wait_for_quiet

TOKEN = "bench-" + "k" * 34
DOCUMENTS = "lanterne-documents"
HANDBOOK_QUESTIONS = [
    "How do I set up a firewall with nftables?",
    "How are Debian releases named?",
    "How do I compile a kernel?",
    "How does APT choose a mirror?",
    "What is LVM and how do I extend a logical volume?",
    "How do I configure the network with ifupdown?",
    "How do I back up data with rsync?",
    "What does debconf do?",
]
CHAT_PROMPTS = [
    "Write two sentences about the sea.",
    "Give three tips for a job interview.",
    "Explain what a compiler does.",
    "Describe a cat in a few words.",
    "What is a good name for a bakery?",
]
GUI_QUESTION = "How do I add a user to a group?"
OVERHEAD_QUESTION = HANDBOOK_QUESTIONS[0]


@dataclass
class Record:
    kind: str  # "chat" or "documents"
    ok: bool  # ended with [DONE]
    ttft_s: float | None  # from the first attempt's send: queue and 429 waits included
    total_s: float
    tokens: int  # usage.completion_tokens
    decode_s: float  # first to last piece of text
    refusals: int  # 429s answered before it was served
    error: str = ""
    prompt_tokens: int = 0
    cached_tokens: int = 0  # of the prompt, found in the model's cache


def _stream_once(
    http: httpx2.Client, body: dict[str, Any], sent: float
) -> tuple[Record | None, int]:
    """One attempt: the record, or None and the seconds to wait after a proper 429."""
    kind = "documents" if body["model"] == DOCUMENTS else "chat"
    first: float | None = None
    last: float | None = None
    usage: dict[str, Any] = {}
    with http.stream("POST", "/chat/completions", json=body) as response:
        if response.status_code == 429:
            response.read()
            retry = response.headers.get("retry-after", "")
            if response.json()["error"]["code"] == "rate_limit_exceeded" and retry.isdigit():
                return None, int(retry)
        if response.status_code != 200:
            text = response.read().decode("utf-8", "replace")[:200]
            lost = f"HTTP {response.status_code}: {text}"
            return Record(kind, False, None, time.perf_counter() - sent, 0, 0.0, 0, lost), 0
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line.removeprefix("data: ")
            if data == "[DONE]":
                now = time.perf_counter()
                ttft = first - sent if first is not None else None
                decode = (last or now) - (first or now)
                tokens = int(usage.get("completion_tokens", 0))
                record = Record(kind, True, ttft, now - sent, tokens, decode, 0)
                record.prompt_tokens = int(usage.get("prompt_tokens", 0))
                details = usage.get("prompt_tokens_details") or {}
                record.cached_tokens = int(details.get("cached_tokens", 0))
                return record, 0
            event = json.loads(data)
            if "error" in event:
                break
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices", []):
                if choice["delta"].get("content"):
                    last = time.perf_counter()
                    first = first or last
    lost = "the stream ended without [DONE]"
    return Record(kind, False, None, time.perf_counter() - sent, 0, 0.0, 0, lost), 0


def one_request(http: httpx2.Client, body: dict[str, Any]) -> Record:
    sent = time.perf_counter()
    refusals = 0
    while True:
        try:
            record, wait = _stream_once(http, body, sent)
        except (httpx2.HTTPError, ValueError, KeyError) as exc:
            kind = "documents" if body["model"] == DOCUMENTS else "chat"
            error = f"{type(exc).__name__}: {exc}"
            return Record(kind, False, None, time.perf_counter() - sent, 0, 0.0, refusals, error)
        if record is not None:
            record.refusals = refusals
            return record
        refusals += 1
        time.sleep(wait)


def run_clients(url: str, clients: int, seconds: float, tokens: int) -> dict[str, Any]:
    """The other apps: `clients` threads sending requests in turn until `seconds` have gone."""
    headers = {"Authorization": f"Bearer {os.environ['LANTERNE_API_KEY']}"}
    with httpx2.Client(base_url=url + "/v1", headers=headers, timeout=600) as http:
        chat_model = http.get("/models").json()["data"][0]["id"]
    records: list[Record] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def client(n: int) -> None:
        with httpx2.Client(base_url=url + "/v1", headers=headers, timeout=600) as http:
            i = 0
            while time.perf_counter() < deadline:
                documents = (n + i) % 2 == 1
                prompts = HANDBOOK_QUESTIONS if documents else CHAT_PROMPTS
                body = {
                    "model": DOCUMENTS if documents else chat_model,
                    "messages": [{"role": "user", "content": prompts[(n + i) % len(prompts)]}],
                    "max_tokens": tokens,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                }
                record = one_request(http, body)
                with lock:
                    records.append(record)
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"seconds": time.perf_counter() - start, "records": [asdict(r) for r in records]}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summarise(load: dict[str, Any]) -> dict[str, Any]:
    records = [Record(**r) for r in load["records"]]
    done = [r for r in records if r.ok]
    ttfts = [r.ttft_s for r in done if r.ttft_s is not None]
    rates = [(r.tokens - 1) / r.decode_s for r in done if r.tokens > 1 and r.decode_s > 0]
    tokens = sum(r.tokens for r in done)
    return {
        "requests": len(records),
        "done": len(done),
        "lost": len(records) - len(done),
        "lost_errors": sorted({r.error for r in records if not r.ok})[:5],
        "documents": sum(r.kind == "documents" for r in done),
        "chat": sum(r.kind == "chat" for r in done),
        "refused_429": sum(r.refusals for r in records),
        "served_after_429": sum(r.ok and r.refusals > 0 for r in records),
        "ttft_p50_s": round(statistics.median(ttfts), 2) if ttfts else None,
        "ttft_p95_s": round(percentile(ttfts, 95), 2) if ttfts else None,
        "ttft_max_s": round(max(ttfts), 2) if ttfts else None,
        "tokens": tokens,
        "prompt_tokens_p50": {
            kind: statistics.median([r.prompt_tokens for r in done if r.kind == kind] or [0])
            for kind in ("documents", "chat")
        },
        "prompt_tokens_cached": round(
            sum(r.cached_tokens for r in done) / max(1, sum(r.prompt_tokens for r in done)), 2
        ),
        "aggregate_tokens_per_s": round(tokens / load["seconds"], 1),
        "stream_tokens_per_s_p50": round(statistics.median(rates), 1) if rates else None,
        "seconds": round(load["seconds"], 1),
    }


def prepare(home: Path) -> Path:
    """The English handbook indexed into `home`, words then vectors (cached passages reused)."""
    from bench.retrieval_quality import MemoEmbedder, vector_cache
    from lanterne.engine.embedder import Embedder
    from lanterne.foundation.paths import index_db_path
    from lanterne.indexer.embedding_worker import EmbeddingWorker
    from lanterne.indexer.indexing import Indexer
    from lanterne.indexer.store import IndexStore

    folder = handbook() / "en-US"
    store = IndexStore(index_db_path())
    indexer = Indexer(store)
    indexer.add_folder(folder)
    indexer.stop_readers()
    model = embedding_model()
    embedder = MemoEmbedder(Embedder(model), vector_cache(model))
    EmbeddingWorker(store, embedder, batch=32).run()
    embedder.save()
    embedder.embedder.close()
    store.close()
    return folder


def first_token_http(http: httpx2.Client) -> float:
    body = {
        "model": DOCUMENTS,
        "messages": [{"role": "user", "content": OVERHEAD_QUESTION}],
        "stream": True,
    }
    sent = time.perf_counter()
    first = None
    with http.stream("POST", "/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if first is None and line.startswith("data: {"):
                choices = json.loads(line.removeprefix("data: "))["choices"]
                if choices and choices[0]["delta"].get("content"):
                    first = time.perf_counter()
    assert first is not None, "no text came back"
    return first - sent


def first_token_in_process(ctx: Any) -> float:
    from lanterne.assistant.pipeline import Token

    started = time.perf_counter()
    first = None
    for event in ctx.assistant.ask(OVERHEAD_QUESTION):
        if first is None and isinstance(event, Token) and event.text.strip():
            first = time.perf_counter()
    assert first is not None, "no text came back"
    return first - started


def overhead(ctx: Any, url: str, runs: int) -> dict[str, Any]:
    """Alternated, HTTP first on even runs; each answer complete before the next (8 tokens)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    http_s: list[float] = []
    local_s: list[float] = []
    load = ForeignLoad()
    with httpx2.Client(base_url=url + "/v1", headers=headers, timeout=120) as http:
        first_token_http(http)  # warm both paths
        first_token_in_process(ctx)
        for run in range(runs):
            order = ("http", "local") if run % 2 == 0 else ("local", "http")
            for path in order:
                if path == "http":
                    http_s.append(first_token_http(http))
                else:
                    local_s.append(first_token_in_process(ctx))
    pairs = [h / max(v, 1e-6) for h, v in zip(http_s, local_s, strict=True)]
    return {
        "runs": runs,
        "http_ttft_ms_p50": round(statistics.median(http_s) * 1000, 1),
        "in_process_ttft_ms_p50": round(statistics.median(local_s) * 1000, 1),
        "ratio": round(statistics.median(http_s) / statistics.median(local_s), 3),
        "ratio_of_pairs_p50": round(statistics.median(pairs), 3),
        "other_processes_cores": round(load.cores(), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=48, help="max_tokens per request")
    parser.add_argument("--queue-limit", type=int, default=8, help="the api.queue_limit setting")
    parser.add_argument("--runs", type=int, default=20, help="overhead runs per path")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--client-of", metavar="URL", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.client_of:
        print(json.dumps(run_clients(args.client_of, args.clients, args.seconds, args.tokens)))
        return 0

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="lanterne-api-load-"))
    os.environ["LANTERNE_HOME"] = str(home)
    os.environ["LANTERNE_API_KEY"] = TOKEN
    try:
        results = measure(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


def measure(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from lanterne.context import AppContext
    from lanterne.desktop.api_service import ApiService
    from lanterne.desktop.main_window import MainWindow
    from lanterne.foundation.settings import Settings

    start = time.perf_counter()
    prepare(home)
    index_s = time.perf_counter() - start
    settings = Settings()
    for key, value in (
        ("model.path", str(gemma_test_model())),
        ("api.enabled", True),
        ("api.port", 0),  # a free port
        ("api.queue_limit", args.queue_limit),
    ):
        settings.set(key, value)
    settings.save()
    app = QApplication([])
    ctx = AppContext(settings)
    window = MainWindow(ctx)
    window.show()
    ready: list[object] = []
    window.indexing.ready.connect(ready.append)
    window.services.api = service = ApiService(ctx, window)  # as desktop/app.py does
    service.apply_settings()
    wait_for(app, lambda: service.url is not None and bool(ready), 120)
    url = str(service.url)
    with httpx2.Client(base_url=url + "/v1", headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        for model in (DOCUMENTS, h.get("/models").json()["data"][0]["id"]):  # the model loads
            body = {"model": model, "messages": [{"role": "user", "content": "Hi"}]}
            h.post("/chat/completions", json={**body, "max_tokens": 4}, timeout=300)

    quiet_wait = wait_for_quiet(0.3, 60)
    foreign = ForeignLoad()
    child = subprocess.Popen(
        [
            *(sys.executable, __file__, "--client-of", url, "--clients", str(args.clients)),
            *("--seconds", str(args.seconds), "--tokens", str(args.tokens)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    gui: dict[str, float] = {}
    answers: list[object] = []

    def first_token(_text: str) -> None:
        gui.setdefault("first_token", time.perf_counter())

    window.worker.token.connect(first_token)
    window.worker.finished.connect(answers.append)

    def under_load() -> None:
        wait_for(app, lambda: time.perf_counter() > gui_at, args.seconds + 60)
        gui["asked"] = time.perf_counter()
        window.question.setPlainText(GUI_QUESTION)
        window.ask()
        wait_for(app, lambda: child.poll() is not None and bool(answers), args.seconds + 900)

    gui_at = time.perf_counter() + args.seconds / 3
    stalls = Heartbeat().measure(under_load)
    out, _err = child.communicate()
    load_cores = foreign.cores()
    results: dict[str, Any] = {
        "index_s": round(index_s, 1),
        "clients": args.clients,
        "max_tokens": args.tokens,
        "queue_limit": args.queue_limit,
        "load": summarise(json.loads(out)),
        "gui_stalls": stalls,
        "gui_question_ttft_s": round(gui["first_token"] - gui["asked"], 2),
        "target_ms": TARGET_MS,
        "waited_for_quiet_s": round(quiet_wait, 1),
        "other_processes_cores": round(load_cores, 2),
    }
    ctx.settings.set("model.max_answer_tokens", 8)  # the overhead: first tokens only matter
    results["overhead"] = overhead(ctx, url, args.runs)
    service.stop()
    window.close()
    ctx.close()
    app.processEvents()
    return results


def print_table(r: dict[str, Any]) -> None:
    load, stalls, over = r["load"], r["gui_stalls"], r["overhead"]
    rows = [
        ("clients x max_tokens", f"{r['clients']} x {r['max_tokens']}"),
        ("requests (done / lost)", f"{load['requests']} ({load['done']} / {load['lost']})"),
        ("  documents / chat", f"{load['documents']} / {load['chat']}"),
        ("429s (served after)", f"{load['refused_429']} ({load['served_after_429']})"),
        (
            "TTFT p50 / p95 / max",
            f"{load['ttft_p50_s']} / {load['ttft_p95_s']} / {load['ttft_max_s']} s",
        ),
        ("tokens/s aggregate", f"{load['aggregate_tokens_per_s']}"),
        (
            "prompt tokens p50 docs / chat",
            f"{load['prompt_tokens_p50']['documents']} / {load['prompt_tokens_p50']['chat']}"
            f" ({load['prompt_tokens_cached']:.0%} cached)",
        ),
        ("tokens/s per stream p50", f"{load['stream_tokens_per_s_p50']}"),
        ("GUI question TTFT under load", f"{r['gui_question_ttft_s']} s"),
        ("GUI max stall / p99", f"{stalls.get('max_stall_ms')} / {stalls.get('p99_stall_ms')} ms"),
        ("GUI stalls over 50 ms", f"{stalls.get('stalls_over_50ms')}"),
        (
            "HTTP vs in-process TTFT",
            f"{over['http_ttft_ms_p50']} / {over['in_process_ttft_ms_p50']} ms",
        ),
        ("ratio (median; of pairs)", f"{over['ratio']}; {over['ratio_of_pairs_p50']}"),
        (
            "other processes (cores)",
            f"{r['other_processes_cores']}, {over['other_processes_cores']}",
        ),
    ]
    for name, value in rows:
        print(f"{name:30} {value}")
    if load["lost_errors"]:
        print("lost:", *load["lost_errors"], sep="\n  ")


if __name__ == "__main__":
    sys.exit(main())
