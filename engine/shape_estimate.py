"""A GGUF header summary estimated from a model's published architecture, before the file exists.

The catalog must say whether a model fits this machine before gigabytes are downloaded, and the
answer must come from the same offload planner that will load it. The planner reads a
`GGUFSummary`; this builds one from the figures in the model's `config.json` (layers, widths,
experts) and the size of the quantized file, splitting the bytes between attention, dense/shared
FFN, experts and embeddings in proportion to their parameter counts. Once the file is on disk
its real header replaces the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lanterne.engine.gguf_header import GGUFSummary, LayerBytes


@dataclass(frozen=True)
class ModelShape:
    """The architecture figures the planner needs, as published in a model's config."""

    architecture: str  # llama.cpp's name: qwen3moe, gpt-oss, llama, lfm2moe, granitehybrid…
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_vocab: int
    context_length: int
    dense_ff: int = 0  # FFN width of dense layers (dense models: every layer)
    dense_layers: int | None = None  # MoE models whose first N layers are dense (LFM2)
    n_expert: int = 0
    n_expert_used: int = 0
    expert_ff: int = 0
    shared_ff: int = 0  # a shared expert beside the routed ones (Granite 4)
    attention_layers: tuple[int, ...] | None = None  # hybrids: the layers with a KV cache
    tied_embeddings: bool = False
    ffn_matrices: int = 3  # gated FFNs (SwiGLU: gate, up, down); 2 for BERT's up/down
    # Mamba-2 mixers of hybrids (Granite 4.0 H), when given: they weigh twice the attention
    # they replace, which matters in a dense hybrid where no experts dwarf them.
    ssm_inner: int = 0  # d_inner: expand x n_embd
    ssm_state: int = 0  # d_state
    ssm_groups: int = 1
    ssm_heads: int = 0
    ssm_conv: int = 4

    @property
    def is_moe(self) -> bool:
        return self.n_expert > 1

    def _is_dense(self, layer: int) -> bool:
        if not self.is_moe:
            return True
        return self.dense_layers is not None and layer < self.dense_layers

    def _is_recurrent(self, layer: int) -> bool:
        return (
            self.ssm_inner > 0
            and self.attention_layers is not None
            and layer not in self.attention_layers
        )

    def _ssm_params(self) -> int:
        """A Mamba-2 mixer: input and output projections, convolution, per-head A, D, dt."""
        e, inner, heads = self.n_embd, self.ssm_inner, self.ssm_heads
        conv_channels = inner + 2 * self.ssm_groups * self.ssm_state
        in_proj = e * (inner + conv_channels + heads)
        return in_proj + conv_channels * (self.ssm_conv + 1) + 3 * heads + inner + inner * e

    def _layer_params(self, layer: int) -> tuple[int, int, int]:
        """(attention or mixer, dense/shared FFN and router, experts) parameters of a layer."""
        e, hd = self.n_embd, self.head_dim
        if self._is_recurrent(layer):
            attention = self._ssm_params()
        else:  # or a recurrent mixer (short convolutions) sized like the attention it replaces
            attention = e * self.n_head * hd * 2 + e * self.n_head_kv * hd * 2
        if self._is_dense(layer):
            return attention, self.ffn_matrices * e * self.dense_ff, 0
        dense = 3 * e * self.shared_ff + e * self.n_expert  # shared expert + router
        return attention, dense, 3 * e * self.expert_ff * self.n_expert

    @property
    def n_params(self) -> int:
        layers = sum(sum(self._layer_params(i)) for i in range(self.n_layer))
        embeddings = self.n_vocab * self.n_embd * (1 if self.tied_embeddings else 2)
        return layers + embeddings

    def kv_heads(self) -> tuple[int, ...]:
        """KV heads per layer: zero where a hybrid has no attention (no KV cache there)."""
        if self.attention_layers is None:
            return (self.n_head_kv,) * self.n_layer
        attending = set(self.attention_layers)
        return tuple(self.n_head_kv if i in attending else 0 for i in range(self.n_layer))

    def summary(self, name: str, file_bytes: int, path: Path | None = None) -> GGUFSummary:
        """The header the file of `file_bytes` would have: bytes split by parameter share."""
        per_byte = file_bytes / max(1, self.n_params)
        layers = []
        for i in range(self.n_layer):
            attention, dense, experts = self._layer_params(i)
            layers.append(
                LayerBytes(
                    attention=int(attention * per_byte),
                    dense_ffn=int(dense * per_byte),
                    expert_ffn=int(experts * per_byte),
                )
            )
        embedding = int(self.n_vocab * self.n_embd * per_byte)
        output = embedding
        groups = {
            "embeddings": embedding + (0 if self.tied_embeddings else output),
            "attention": sum(layer.attention for layer in layers),
            "dense_ffn": sum(layer.dense_ffn for layer in layers),
            "expert_ffn": sum(layer.expert_ffn for layer in layers),
            "other": 0,
        }
        where = path or Path(f"{name}.gguf")
        return GGUFSummary(
            path=where,
            files=(where,),
            architecture=self.architecture,
            name=name,
            n_params=self.n_params,
            n_layer=self.n_layer,
            n_expert=self.n_expert,
            n_expert_used=self.n_expert_used,
            context_length=self.context_length,
            n_embd=self.n_embd,
            n_head=self.n_head,
            n_head_kv=self.kv_heads(),
            head_dim_k=self.head_dim,
            head_dim_v=self.head_dim,
            n_vocab=self.n_vocab,
            chat_template=None,
            groups=groups,
            layers=tuple(layers),
            file_bytes=file_bytes,
            embedding_bytes=embedding,
            output_bytes=output,
        )
