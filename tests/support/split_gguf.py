"""A GGUF written as a two-file split model, the way llama.cpp's gguf-split lays it out."""

from __future__ import annotations

from pathlib import Path

import gguf


def write_split(source: Path, folder: Path, stem: str = "tiny") -> list[Path]:
    """Write `source` as a two-file split model, the way gguf-split lays it out."""
    reader = gguf.GGUFReader(source)
    paths = [folder / f"{stem}-0000{i}-of-00002.gguf" for i in (1, 2)]
    halves = [
        reader.tensors[: len(reader.tensors) // 2],
        reader.tensors[len(reader.tensors) // 2 :],
    ]
    for index, (path, tensors) in enumerate(zip(paths, halves, strict=True)):
        arch = "qwen3moe"
        writer = gguf.GGUFWriter(path, arch)
        if index == 0:
            for fld in reader.fields.values():
                if fld.name.startswith("GGUF.") or fld.name == "general.architecture":
                    continue
                value = fld.contents()
                vtype = fld.types[0]
                sub = fld.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
                writer.add_key_value(fld.name, value, vtype, sub_type=sub)
        writer.add_uint16("split.no", index)
        writer.add_uint16("split.count", 2)
        for t in tensors:
            writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return paths
