"""llama-cpp-python's wheel, laid out as Lanterne loads it: shared by dev.py (source installs)
and build_release.py (installers). Standard library only: dev.py runs it before anything is
installed."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def repack_llama_wheel(wheel: Path, extra: dict[str, bytes] | None = None) -> None:
    """Put a dispatch build's CPU variants beside libggml in llama_cpp/lib, rewriting the wheel
    in place. llama-cpp-python's wheel installs them into site-packages/bin, where neither ggml
    (it looks beside the executable) nor a frozen app's collector would find them; its top-level
    lib/ and include/ (copies of llama_cpp/lib, C headers) go. `extra`: files to add to
    llama_cpp/lib (the release build's record of its flags). A build without variants is left
    as it is."""

    def record_hash(data: bytes) -> str:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"sha256={digest}"

    with zipfile.ZipFile(wheel) as old:
        names = old.namelist()
        if not any(n.startswith("bin/") and "ggml-cpu-" in n for n in names) and not extra:
            return
        files: dict[str, tuple[bytes, int]] = {}  # name -> (bytes, zip attributes)
        for info in old.infolist():
            top = info.filename.split("/", 1)[0]
            entry = (old.read(info), info.external_attr)
            if top == "bin" and "ggml-cpu-" in info.filename:
                files["llama_cpp/lib/" + info.filename.rsplit("/", 1)[-1]] = entry
            elif top not in ("bin", "lib", "include") and not info.filename.endswith("/RECORD"):
                files[info.filename] = entry
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
    for name, data in (extra or {}).items():
        files[f"llama_cpp/lib/{name}"] = (data, 0o644 << 16)
    lines = [f"{name},{record_hash(data)},{len(data)}" for name, (data, _a) in files.items()]
    files[record] = (("\n".join([*lines, f"{record},,"]) + "\n").encode(), 0o644 << 16)
    scratch = wheel.with_suffix(".repacking")
    with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as new:
        for name, (data, attributes) in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = attributes
            new.writestr(info, data, zipfile.ZIP_DEFLATED)
    scratch.replace(wheel)
