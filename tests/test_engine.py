"""The engine on real GGUFs: the Gemma 3 270M from PyPI and a generated tiny MoE."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from lanterne.engine.errors import GenerationCancelledError, ModelLoadError
from lanterne.engine.hardware import probe
from lanterne.engine.host import LoadRequest, ModelHost
from lanterne.engine.runtime import LocalModel, SamplingParams

pytestmark = pytest.mark.model


def test_moe_model_metadata_and_plan(tiny_moe_model: Path) -> None:
    cpu_only = replace(probe(), gpus=())  # the same on a GPU build
    model = LocalModel.load(tiny_moe_model, n_ctx=512, n_threads=2, hardware=cpu_only)
    try:
        info = model.info
        assert (info.architecture, info.n_expert, info.n_expert_used) == ("qwen3moe", 4, 2)
        assert info.is_moe and info.n_layer == 2
        assert info.chat_template and "<|im_start|>" in info.chat_template
        assert model.plan.backend == "cpu" and model.plan.n_threads == 2
        assert "CPU" in model.plan.description
        prompt = model.render_chat([{"role": "user", "content": "Bonjour"}])
        assert prompt.endswith("<|im_start|>assistant\n")
        assert model.stop_markers() == ["<|im_start|>"]
    finally:
        model.close()


def test_streaming_reports_llama_cpp_timings(tiny_moe_model: Path) -> None:
    model = LocalModel.load(tiny_moe_model, n_ctx=512, n_threads=2)
    try:
        prompt = model.render_chat([{"role": "user", "content": "Où est l'été ?"}])
        pieces = list(model.stream(prompt, SamplingParams(max_tokens=12, seed=3)))
        t = model.last_timings
        assert t is not None
        assert t.prompt_tokens == model.count_tokens(prompt)
        assert 1 <= t.predicted_tokens <= 12 and len(pieces) >= 1
        assert t.prompt_ms > 0 and t.predicted_ms > 0 and t.ttft_ms > 0
        assert t.tokens_per_second > 0
    finally:
        model.close()


def test_cancel_stops_generation(tiny_moe_model: Path) -> None:
    model = LocalModel.load(tiny_moe_model, n_ctx=512, n_threads=2)
    cancel = threading.Event()
    got = []
    try:
        with pytest.raises(GenerationCancelledError):
            for piece in model.stream("hello", SamplingParams(max_tokens=200), cancel=cancel):
                got.append(piece)
                cancel.set()
        assert len(got) == 1
    finally:
        model.close()


def test_gemma_without_chat_template_uses_a_plain_layout(gemma_model: Path) -> None:
    model = LocalModel.load(gemma_model, n_ctx=1024)
    try:
        assert model.info.architecture == "gemma3" and not model.info.is_moe
        prompt = model.render_chat(
            [
                {"role": "system", "content": "Réponds en français."},
                {"role": "user", "content": "Quelle est la capitale de la France ?"},
            ]
        )
        assert prompt.endswith("Assistant:")
        text = "".join(
            model.stream(
                prompt, SamplingParams(max_tokens=24, temperature=0.0), stop=model.stop_markers()
            )
        )
        assert text.strip()
        assert model.last_timings is not None and model.last_timings.predicted_tokens >= 1
    finally:
        model.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "Model file not found"), (b"not a model at all", "is not a GGUF model file")],
)
def test_bad_model_files_are_explained(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message):
        LocalModel.load(path)


def test_truncated_gguf_is_a_load_error_not_a_crash(tmp_path: Path, tiny_moe_model: Path) -> None:
    path = tmp_path / "truncated.gguf"
    path.write_bytes(tiny_moe_model.read_bytes()[:5000])
    with pytest.raises(
        ModelLoadError, match=r"truncated\.gguf is damaged or not a complete GGUF file"
    ):
        LocalModel.load(path)


def test_host_runs_the_model_on_its_own_thread(tiny_moe_model: Path) -> None:
    host = ModelHost()
    try:
        request = LoadRequest(tiny_moe_model, n_ctx=512, n_threads=1)
        model = host.load(request).result(timeout=60)
        assert host.load(request).result(timeout=60) is model  # same settings: kept loaded
        threads = host.submit(threading.current_thread).result()
        assert threads is not threading.current_thread()
        assert threads.name.startswith("lanterne-model")
        pieces = list(host.stream(model, "hi", SamplingParams(max_tokens=5)))
        assert pieces
        # Abandoning the stream cancels generation on the model thread.
        stream = host.stream(model, "hi", SamplingParams(max_tokens=500))
        next(stream)
        stream.close()
        assert host.submit(lambda: model.last_timings).result(timeout=30) is not None
        assert model.last_timings is not None and model.last_timings.predicted_tokens < 500
    finally:
        host.shutdown()
    assert host.model is None


def test_llama_cpp_logs_do_not_reach_stderr(
    gemma_model: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    model = LocalModel.load(gemma_model, n_ctx=512)
    model.close()
    assert capfd.readouterr().err == ""


def test_llama_cpp_log_levels_are_mapped_from_ggml(
    tiny_moe_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="lanterne.engine.llama_cpp")
    LocalModel.load(tiny_moe_model, n_ctx=256).close()
    levels = {r.levelno for r in caplog.records if r.name == "lanterne.engine.llama_cpp"}
    assert logging.DEBUG in levels  # llama.cpp's chatty load details are debug, not warnings
    assert all(not r.getMessage().endswith("\n") for r in caplog.records)


def test_unsupported_architecture_is_named(tmp_path: Path) -> None:
    import gguf
    import numpy as np

    path = tmp_path / "future.gguf"
    writer = gguf.GGUFWriter(path, "notarealarch")
    writer.add_block_count(1)
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((8, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelLoadError, match="unknown model architecture: 'notarealarch'"):
        LocalModel.load(path, n_ctx=256)


def test_cancel_interrupts_a_long_prompt_evaluation(gemma_model: Path) -> None:
    model = LocalModel.load(gemma_model, n_ctx=4096)
    try:
        prompt = "Le système de paquets Debian repose sur dpkg et APT. " * 180  # ~2,500 tokens
        assert model.count_tokens(prompt) > 2000  # seconds of prefill on these CPUs
        cancel = threading.Event()
        timer = threading.Timer(0.3, cancel.set)
        started = time.perf_counter()
        timer.start()
        with pytest.raises(GenerationCancelledError):
            list(model.stream(prompt, SamplingParams(max_tokens=8), cancel=cancel))
        stopped_after = time.perf_counter() - started
        assert stopped_after < 0.3 + 0.5, f"took {stopped_after:.2f} s to stop"
        # The context is still consistent: the next answer works.
        again = list(model.stream("Bonjour", SamplingParams(max_tokens=4, temperature=0.0)))
        assert again
    finally:
        model.close()


def test_the_model_sees_its_bos_token_once(gemma_model: Path) -> None:
    """Gemma wants a BOS; llama.cpp's own count of evaluated prompt tokens proves it got one."""
    import llama_cpp

    model = LocalModel.load(gemma_model, n_ctx=512)
    try:
        prompt = "Bonjour, comment allez-vous ?"
        list(model.stream(prompt, SamplingParams(max_tokens=2, temperature=0.0)))
        evaluated = llama_cpp.llama_perf_context(model._llm.ctx).n_p_eval
        assert evaluated == model.count_tokens(prompt) == len(model.tokenize(prompt)) + 1
        assert model.cached_tokens[0] == model._llm.token_bos()
        assert model.cached_tokens[1] != model._llm.token_bos()
    finally:
        model.close()


def test_a_gpu_that_fails_to_initialise_falls_back_to_the_cpu(
    tiny_moe_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No GPU can run here, so the GPU's failure is the one stand-in: the CPU load is real."""
    from lanterne.engine import runtime
    from lanterne.engine.hardware import GpuDevice, probe
    from lanterne.engine.offload import OffloadPlan

    real_load = runtime._load_llama
    attempts: list[str] = []

    def load(path: Path, plan: OffloadPlan) -> tuple[object, object]:
        attempts.append(plan.backend)
        if plan.backend != "cpu":
            raise ModelLoadError(
                "ggml_cuda_init: failed to initialize CUDA: no CUDA-capable device"
            )
        return real_load(path, plan)

    monkeypatch.setattr(runtime, "_load_llama", load)
    gpu = GpuDevice("CUDA0", "NVIDIA RTX 4060", "CUDA", 7 * 1024**3, 8 * 1024**3, False)
    hardware = replace(probe(), gpus=(gpu,))
    model = LocalModel.load(tiny_moe_model, n_ctx=512, n_threads=2, hardware=hardware)
    try:
        assert attempts == ["CUDA", "cpu"]
        assert model.plan.backend == "cpu" and model.plan.n_gpu_layers == 0
        assert "The GPU could not be used: ggml_cuda_init: failed" in model.plan.description
        assert list(model.stream("Bonjour", SamplingParams(max_tokens=3, temperature=0.0)))
    finally:
        model.close()
