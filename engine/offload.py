"""How a model is spread over GPU and CPU, planned before anything is loaded.

Inputs are plain data (the GGUF header summary and the hardware probe), so the planner is tested
on synthetic descriptions of real models and machines. Strategy, in llama.cpp's own terms:

- Everything on the GPU if it fits (weights, KV cache, compute buffer, a safety margin).
- Mixture of experts: attention, router, shared experts and KV stay on the GPU; the expert FFN
  of the first layers moves to the CPU (`--n-cpu-moe N`), as few layers as make the rest fit.
  Expert weights are large but each token uses few of them, so this costs far less speed than a
  layer split.
- Dense models, or MoE models whose non-expert part does not fit: a layer split
  (`n_gpu_layers`), the last layers on the GPU as llama.cpp places them.
- A q8_0 KV cache (half of f16) when it is what makes a fuller placement fit.
- Nothing fits in VRAM and RAM together: PlanError says by how much, before loading.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import psutil

from lanterne.engine.errors import EngineError
from lanterne.engine.gguf_header import GGUFSummary
from lanterne.engine.hardware import Hardware
from lanterne.foundation.translation import _, format_number, format_size, ngettext

GB = 1024**3
KV_BYTES = {"f16": 2.0, "q8_0": 34 / 32}  # q8_0: 32 values in 34 bytes
KV_BLOCK = {"f16": 1, "q8_0": 32}  # llama.cpp needs the head size to be a multiple of it
_MIN_MARGIN = 512 * 1024**2
_MARGIN_SHARE = 0.07
_RAM_SHARE = 0.9  # leave the rest of the free RAM to the user's other programs


class PlanError(EngineError):
    """The model cannot fit this machine; the message says by how much."""


@dataclass(frozen=True)
class PlanOverrides:
    """What a user forced in Settings; None leaves the choice to the planner."""

    n_gpu_layers: int | None = None  # llama.cpp semantics; n_layer + 1 includes the output
    cpu_expert_layers: int | None = None  # experts of the first N layers kept in RAM
    kv_type: str | None = None  # "f16" or "q8_0"
    flash_attn: bool | None = None
    n_threads: int | None = None


@dataclass(frozen=True)
class OffloadPlan:
    backend: str  # "cpu", or the GPU backend's name ("CUDA", "Metal", "Vulkan"…)
    n_gpu_layers: int
    n_threads: int
    n_ctx: int
    description: str = ""
    device: str | None = None
    cpu_expert_layers: tuple[int, ...] = ()
    kv_type: str = "f16"
    kv_on_gpu: bool = False
    flash_attn: bool = False
    n_batch: int = 512
    n_ubatch: int = 512
    vram_needed: int = 0
    vram_available: int = 0
    ram_needed: int = 0
    overridden: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["cpu_expert_layers"] = list(self.cpu_expert_layers)
        data["overridden"] = list(self.overridden)
        return data

    @property
    def summary(self) -> str:
        """A few words for a status bar; `description` says the rest."""
        if self.backend == "cpu":
            return _("CPU, {threads} threads").format(threads=self.n_threads)
        if self.cpu_expert_layers:
            return _("{backend}, {n} layers' experts on CPU").format(
                backend=self.backend, n=len(self.cpu_expert_layers)
            )
        return _("{backend}, {vram} GB VRAM").format(
            backend=self.backend, vram=format_number(self.vram_needed / GB, 1)
        )


def default_threads() -> int:
    """Physical cores: hyper-threads slow llama.cpp's matrix kernels down rather than up."""
    return max(1, psutil.cpu_count(logical=False) or psutil.cpu_count() or 1)


def _ranges(layers: tuple[int, ...]) -> str:
    """(0, 1, 2, 5) -> "0-2, 5"."""
    parts: list[str] = []
    start = prev = None
    for n in (*layers, None):
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(f"{start}-{prev}" if start != prev else f"{start}")
        start = prev = n
    return ", ".join(parts)


@dataclass(frozen=True)
class _Placement:
    gpu_layers: int  # how many of the last layers are on the GPU (output included at n_layer)
    cpu_experts: int  # experts of the first N layers stay in RAM
    kv_type: str


def _compute_bytes(model: GGUFSummary, n_ubatch: int) -> int:
    """The GPU's scratch buffer, with flash attention: logits plus activations of one ubatch."""
    return n_ubatch * 4 * (model.n_vocab + 16 * model.n_embd) + 256 * 1024**2


def _vram_needed(model: GGUFSummary, p: _Placement, n_ctx: int, n_ubatch: int) -> int:
    n = model.n_layer
    first_gpu = n - min(p.gpu_layers, n)
    weights = 0
    for index, layer in enumerate(model.layers):
        if index >= first_gpu:
            weights += layer.total - (layer.expert_ffn if index < p.cpu_experts else 0)
    if p.gpu_layers > n:
        weights += model.output_bytes
    kv = model.kv_bytes(n_ctx, KV_BYTES[p.kv_type]) * (n - first_gpu) // max(n, 1)
    return weights + kv + (_compute_bytes(model, n_ubatch) if p.gpu_layers else 0)


def _ram_needed(model: GGUFSummary, p: _Placement, n_ctx: int, n_ubatch: int) -> int:
    n = model.n_layer
    first_gpu = n - min(p.gpu_layers, n)
    weights = model.embedding_bytes + (0 if p.gpu_layers > n else model.output_bytes)
    for index, layer in enumerate(model.layers):
        if index < first_gpu:
            weights += layer.total
        elif index < p.cpu_experts:
            weights += layer.expert_ffn
    kv = model.kv_bytes(n_ctx, KV_BYTES[p.kv_type]) * first_gpu // max(n, 1)
    cpu_compute = n_ubatch * 4 * model.n_vocab if not p.gpu_layers else 0
    return weights + kv + cpu_compute


def _candidates(model: GGUFSummary, kv_type: str) -> list[_Placement]:
    """From the fullest GPU placement to the emptiest, in order of expected speed."""
    n = model.n_layer
    out = [_Placement(n + 1, 0, kv_type)]
    if model.is_moe:
        out += [_Placement(n + 1, m, kv_type) for m in range(1, n + 1)]
        out += [_Placement(k, n, kv_type) for k in range(n, -1, -1)]
    else:
        out += [_Placement(k, 0, kv_type) for k in range(n, -1, -1)]
    return out


def _kv_fits_heads(model: GGUFSummary, kv_type: str) -> bool:
    block = KV_BLOCK[kv_type]
    return model.head_dim_k % block == 0 and model.head_dim_v % block == 0


def _rank(p: _Placement, model: GGUFSummary) -> tuple[int, int]:
    """Higher is faster: layers on the GPU first, then experts on the GPU."""
    return (min(p.gpu_layers, model.n_layer + 1), -p.cpu_experts)


def plan_offload(
    model: GGUFSummary,
    hardware: Hardware,
    n_ctx: int,
    overrides: PlanOverrides | None = None,
) -> OffloadPlan:
    o = overrides or PlanOverrides()
    threads = o.n_threads if o.n_threads and o.n_threads > 0 else hardware.cpu_physical
    gpu = hardware.best_gpu
    n_ubatch = 512
    ram_budget = int(hardware.ram_available * _RAM_SHARE)
    overridden = tuple(k for k, v in asdict(o).items() if v is not None)
    if o.kv_type is not None and not _kv_fits_heads(model, o.kv_type):
        raise PlanError(
            _(
                "{name} cannot use a {kv} KV cache: its attention heads ({size} values) are not "
                "a multiple of {block}. Set the KV cache to auto or f16."
            ).format(
                name=model.name, kv=o.kv_type, size=model.head_dim_k, block=KV_BLOCK[o.kv_type]
            )
        )
    if o.kv_type not in (None, "f16") and o.flash_attn is False:
        raise PlanError(
            _(
                "A {kv} KV cache needs flash attention (llama.cpp cannot quantize the V cache "
                "without it): set flash attention to auto or on, or the KV cache to f16."
            ).format(kv=o.kv_type)
        )

    if gpu is None or o.n_gpu_layers == 0:
        kv_type = o.kv_type or "f16"
        cpu = _Placement(0, 0, kv_type)
        ram = _ram_needed(model, cpu, n_ctx, n_ubatch)
        if ram > ram_budget:
            raise PlanError(
                _(
                    "{name} needs about {need} GB of memory with a {ctx}-token context, but "
                    "only {have} GB is free: {short} GB short. Close other programs, "
                    "lower the context size, or choose a smaller model or quantization."
                ).format(
                    name=model.name,
                    need=format_number(ram / GB, 1),
                    ctx=format_number(n_ctx),
                    have=format_number(ram_budget / GB, 1),
                    short=format_number((ram - ram_budget) / GB, 1),
                )
            )
        reason = (
            _("this build of llama.cpp has no GPU backend")
            if gpu is None
            else _("GPU offload turned off in Settings")
        )
        return OffloadPlan(
            backend="cpu",
            n_gpu_layers=0,
            n_threads=threads,
            n_ctx=n_ctx,
            kv_type=kv_type,
            flash_attn=bool(o.flash_attn) or kv_type != "f16",  # a quantized V cache needs it
            ram_needed=ram,
            overridden=overridden,
            description=_(
                "All layers on the CPU ({threads}): {reason}. About {ram} of RAM."
            ).format(
                threads=ngettext("{n} thread", "{n} threads", threads).format(n=threads),
                reason=reason,
                ram=format_size(ram),
            ),
        )

    margin = max(_MIN_MARGIN, int(gpu.total_bytes * _MARGIN_SHARE))
    vram_budget = max(0, gpu.free_bytes - margin)
    if gpu.unified_memory:  # the GPU's memory is the system's: one budget for both
        vram_budget = min(vram_budget, ram_budget)
    kv_types = [o.kv_type] if o.kv_type else [k for k in KV_BYTES if _kv_fits_heads(model, k)]
    feasible: list[tuple[_Placement, int, int]] = []
    for kv_type in kv_types:
        for p in _candidates(model, kv_type):
            if o.n_gpu_layers is not None and o.n_gpu_layers >= 0:
                p = replace(p, gpu_layers=o.n_gpu_layers)
            if o.cpu_expert_layers is not None and model.is_moe:
                p = replace(p, cpu_experts=min(o.cpu_expert_layers, model.n_layer))
            vram = _vram_needed(model, p, n_ctx, n_ubatch)
            ram = _ram_needed(model, p, n_ctx, n_ubatch)
            forced = o.n_gpu_layers is not None or o.cpu_expert_layers is not None
            if forced or (vram <= vram_budget and (gpu.unified_memory or ram <= ram_budget)):
                feasible.append((p, vram, ram))
                break
    if not feasible:
        least = _Placement(0, model.n_layer, kv_types[-1])
        need = _ram_needed(model, least, n_ctx, n_ubatch)
        raise PlanError(
            _(
                "{name} does not fit this machine with a {ctx}-token context: it needs about "
                "{need} GB and {have} GB of RAM is free ({short} GB short), even "
                "with every layer on the CPU. Lower the context size, or choose a smaller model "
                "or quantization."
            ).format(
                name=model.name,
                ctx=format_number(n_ctx),
                need=format_number(need / GB, 1),
                have=format_number(ram_budget / GB, 1),
                short=format_number((need - ram_budget) / GB, 1),
            )
        )
    # Prefer f16 unless q8_0 puts more of the model on the GPU.
    best, vram, ram = max(feasible, key=lambda item: _rank(item[0], model))
    n = model.n_layer
    cpu_layers = tuple(range(min(best.cpu_experts, n))) if model.is_moe else ()
    gpu_layers = min(best.gpu_layers, n)
    if gpu_layers == n and not cpu_layers:
        where = _("all {n} layers on the GPU").format(n=n)
    elif gpu_layers == n:
        where = _("attention and shared weights on the GPU, experts of layers {layers} on the CPU")
        where = where.format(layers=_ranges(cpu_layers))
    else:
        where = _("{gpu} of {n} layers on the GPU, the rest on the CPU").format(gpu=gpu_layers, n=n)
    description = _("{where} ({backend}, {device}); {used} of {total} GB VRAM.").format(
        where=where[:1].upper() + where[1:],
        backend=gpu.backend,
        device=gpu.description or gpu.name,
        used=format_number(vram / GB, 1),
        total=format_number(gpu.total_bytes / GB, 1),
    )
    if best.kv_type != "f16":
        description += " " + _("KV cache in {kv} to fit.").format(kv=best.kv_type)
    return OffloadPlan(
        backend=gpu.backend,
        device=gpu.description or gpu.name,
        n_gpu_layers=best.gpu_layers,
        n_threads=threads,
        n_ctx=n_ctx,
        cpu_expert_layers=cpu_layers,
        kv_type=best.kv_type,
        kv_on_gpu=best.gpu_layers > 0,
        flash_attn=(o.flash_attn if o.flash_attn is not None else True) or best.kv_type != "f16",
        n_ubatch=n_ubatch,
        vram_needed=vram,
        vram_available=vram_budget,
        ram_needed=ram,
        overridden=overridden,
        description=description,
    )
