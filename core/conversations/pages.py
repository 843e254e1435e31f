"""Rows read straight from a SQLite file's pages, for when SQLite itself cannot walk its trees.

A damaged interior page hides every row below it from SQL, though the leaf pages that hold the
rows may be intact. This reads each page of the file on its own (the SQLite file format: table
leaf pages, their cells, overflow chains, records) and yields the rows it can decode, whatever
table they belong to; the caller recognises its rows by their shape. Pages on the free list
(deleted rows) are passed over. Nothing here trusts a byte: every length and page number is
checked, and a cell that does not add up is skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

Value = int | float | str | bytes | None
_MAGIC = b"SQLite format 3\x00"
_TABLE_LEAF = 0x0D
_ENCODINGS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}


class _UnreadableError(ValueError):
    """A page or record that does not hold together (its bytes were overwritten): skipped."""


class _File:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.page_size = 4096
        self.reserved = 0
        self.encoding = "utf-8"
        if data[:16] == _MAGIC and len(data) >= 100:
            size = struct.unpack(">H", data[16:18])[0]
            size = 65536 if size == 1 else size
            if 512 <= size <= 65536 and size & (size - 1) == 0:
                self.page_size = size
                self.reserved = data[20] if data[20] < size - 480 else 0
            self.encoding = _ENCODINGS.get(struct.unpack(">I", data[56:60])[0], "utf-8")
        self.usable = self.page_size - self.reserved
        self.pages = len(data) // self.page_size

    def page(self, number: int) -> bytes | None:
        if not 1 <= number <= self.pages:
            return None
        start = (number - 1) * self.page_size
        return self.data[start : start + self.page_size]

    def free_pages(self) -> set[int]:
        """The free list's trunk and leaf pages, as far as it can be followed."""
        free: set[int] = set()
        if self.data[:16] != _MAGIC:
            return free
        trunk = struct.unpack(">I", self.data[32:36])[0]
        while trunk and trunk not in free:
            page = self.page(trunk)
            if page is None:
                break
            free.add(trunk)
            following, count = struct.unpack(">II", page[:8])
            if count > self.usable // 4 - 2:
                break
            free.update(struct.unpack(f">{count}I", page[8 : 8 + 4 * count]))
            trunk = following
        return free


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's big-endian variable-length integer at `at`: (value, position after it)."""
    value = 0
    for i in range(8):
        if at + i >= len(data):
            raise _UnreadableError  # varint past the end
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    if at + 8 >= len(data):
        raise _UnreadableError  # varint past the end
    return (value << 8) | data[at + 8], at + 9


def _payload(file: _File, page: bytes, at: int) -> tuple[int, bytes]:
    """A table leaf cell: its rowid and its whole payload (overflow pages followed)."""
    size, at = _varint(page, at)
    rowid, at = _varint(page, at)
    if rowid >= 1 << 63:
        rowid -= 1 << 64
    usable = file.usable
    most = usable - 35
    if size <= most:
        local = size
    else:
        least = (usable - 12) * 32 // 255 - 23
        local = least + (size - least) % (usable - 4)
        local = local if local <= most else least
    if at + local > usable:
        raise _UnreadableError  # cell past the page
    parts = [page[at : at + local]]
    remaining = size - local
    if remaining:
        if at + local + 4 > usable:
            raise _UnreadableError  # overflow pointer past the page
        next_page = struct.unpack(">I", page[at + local : at + local + 4])[0]
        seen: set[int] = set()
        while remaining > 0:
            overflow = file.page(next_page)
            if overflow is None or next_page in seen:
                raise _UnreadableError  # broken overflow chain
            seen.add(next_page)
            chunk = min(remaining, usable - 4)
            parts.append(overflow[4 : 4 + chunk])
            remaining -= chunk
            next_page = struct.unpack(">I", overflow[:4])[0]
    return rowid, b"".join(parts)


def _record(payload: bytes, encoding: str) -> list[Value]:
    """A record's values, as SQLite's record format stores them."""
    header_size, at = _varint(payload, 0)
    if not 1 <= header_size <= len(payload):
        raise _UnreadableError  # bad record header
    types: list[int] = []
    while at < header_size:
        serial, at = _varint(payload, at)
        types.append(serial)
    body = header_size
    values: list[Value] = []
    for serial in types:
        if serial in (10, 11):
            raise _UnreadableError  # reserved serial type
        if serial >= 12:
            length = (serial - 12) // 2
            raw = payload[body : body + length]
            if len(raw) != length:
                raise _UnreadableError  # value past the record
            values.append(raw if serial % 2 == 0 else raw.decode(encoding, errors="replace"))
            body += length
            continue
        if serial in (0, 8, 9):
            values.append(None if serial == 0 else serial - 8)
            continue
        length = (0, 1, 2, 3, 4, 6, 8, 8)[serial]
        raw = payload[body : body + length]
        if len(raw) != length:
            raise _UnreadableError  # value past the record
        if serial == 7:
            values.append(struct.unpack(">d", raw)[0])
        else:
            values.append(int.from_bytes(raw, "big", signed=True))
        body += length
    if body != len(payload):
        raise _UnreadableError  # record length does not add up
    return values


def _cells(file: _File, number: int, page: bytes) -> Iterator[tuple[int, list[Value]]]:
    head = 100 if number == 1 else 0
    if page[head] != _TABLE_LEAF:
        return
    count = struct.unpack(">H", page[head + 3 : head + 5])[0]
    pointers = head + 8
    if pointers + 2 * count > file.usable:
        return
    for i in range(count):
        at = struct.unpack(">H", page[pointers + 2 * i : pointers + 2 * i + 2])[0]
        if not pointers + 2 * count <= at < file.usable:
            continue
        try:
            rowid, payload = _payload(file, page, at)
            yield rowid, _record(payload, file.encoding)
        except (ValueError, struct.error):
            continue


def table_rows(path: Path) -> Iterator[tuple[int, list[Value]]]:
    """(rowid, values) of every table row whose leaf page and overflow pages can be decoded;
    a rowid alias column (INTEGER PRIMARY KEY) is stored as NULL, as SQLite stores it."""
    file = _File(path.read_bytes())
    free = file.free_pages()
    for number in range(1, file.pages + 1):
        if number in free:
            continue
        page = file.page(number)
        if page is not None:
            yield from _cells(file, number, page)
