"""A GGUF file's quantization by name, from the `general.file_type` its header declares.

The numbers are llama.cpp's `llama_ftype` (include/llama.h), which every converter and
quantizer writes; the names are those file names and model pages use (Q4_K_M, Q8_0…), so a
file found on disk reads like a catalog entry. A number this table does not know gives "".
"""

from __future__ import annotations

FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4",
    39: "NVFP4",
    40: "Q1_0",
    41: "Q2_0",
}


def quant_name(file_type: int | None) -> str:
    """ "Q4_K_M" for 15; "" when the header declares none or one unknown here."""
    return FILE_TYPES.get(file_type, "") if file_type is not None else ""
