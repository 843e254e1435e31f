"""The Mamba-2 mixer tensors that `granitehybrid` and `nemotron_h_moe` share.

Both load them through the same llama.cpp code (`build_mamba2_layer`), with the sizes in the
`ssm.*` keys: `time_step_rank` holds the head count, the input projection packs z, x, B, C and
dt, and A, D and dt stay in F32 as the converters write them.
"""

from __future__ import annotations

from dataclasses import dataclass

import gguf
import numpy as np

from support.tiny_archs.common import Tensor, Weights, name

_T = gguf.MODEL_TENSOR


@dataclass(frozen=True)
class Mixer:
    inner: int  # d_inner: heads x head size
    state: int
    groups: int
    heads: int
    conv: int

    def describe(self, writer: gguf.GGUFWriter) -> None:
        writer.add_ssm_conv_kernel(self.conv)
        writer.add_ssm_inner_size(self.inner)
        writer.add_ssm_state_size(self.state)
        writer.add_ssm_time_step_rank(self.heads)  # llama.cpp reads the head count here
        writer.add_ssm_group_count(self.groups)

    def tensors(self, arch: gguf.MODEL_ARCH, w: Weights, layer: int) -> list[tuple[str, Tensor]]:
        conv_channels = self.inner + 2 * self.groups * self.state
        in_proj = self.inner + conv_channels + self.heads
        a_log = np.log(w.rng.uniform(1.0, 16.0, size=(self.heads, 1)))
        dt = np.exp(w.rng.uniform(np.log(1e-3), np.log(1e-1), size=self.heads))
        return [
            (name(arch, _T.SSM_IN, layer), w.half(in_proj, w.width)),
            (name(arch, _T.SSM_CONV1D, layer), w.normal(conv_channels, self.conv, std=0.2)),
            (name(arch, _T.SSM_CONV1D, layer, ".bias"), w.normal(conv_channels, std=0.02)),
            (name(arch, _T.SSM_DT, layer, ".bias"), np.log(np.expm1(dt)).astype(np.float32)),
            (name(arch, _T.SSM_A, layer, ""), (-np.exp(a_log)).astype(np.float32)),
            (name(arch, _T.SSM_D, layer, ""), np.ones((self.heads, 1), dtype=np.float32)),
            (name(arch, _T.SSM_NORM, layer), w.norm(self.groups, self.inner // self.groups)),
            (name(arch, _T.SSM_OUT, layer), w.into_residual(w.width, self.inner)),
        ]
