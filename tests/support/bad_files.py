"""A folder of hostile and broken files, generated: what indexing must shrug off.

Each file carries what must become of it: "reason" (recorded as unreadable, with a reason),
"indexed" (read, its text found), "either" (read or given a reason, but recorded, never a crash
nor a hang), or "skipped" (not a file the index holds: loops, pipes, dangling links). Good files
with a unique word are mixed in, and must all be found afterwards.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

from support.office_docs import (
    pdf_file,
    write_docx,
    write_epub,
    write_odt,
    write_pdf,
    write_pptx,
    write_xlsx,
    write_zip_bomb,
)


@dataclass(frozen=True)
class BadFile:
    path: Path
    kind: str
    expect: str  # reason | indexed | either | skipped


FRENCH = "Le rapport annuel présente les dépenses du service et les sauvegardes de la nuit."


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def encrypted_pdf(user_password: bytes = b"secret") -> bytes:
    """A one-page PDF under the standard security handler (revision 2, RC4 40-bit), as the
    PDF reference's algorithms 3.2-3.4 describe it: it opens only with the password."""
    padded = (user_password + _PAD)[:32]
    owner_key = hashlib.md5(padded).digest()[:5]
    owner = _rc4(owner_key, padded)
    permissions = (-4).to_bytes(4, "little", signed=True)
    file_id = hashlib.md5(b"lanterne-test").digest()
    key = hashlib.md5(padded + owner + permissions + file_id).digest()[:5]
    user = _rc4(key, _PAD)
    content = f"BT /F1 12 Tf 72 720 Td ({FRENCH}) Tj ET".encode("latin-1")
    object_key = hashlib.md5(key + (4).to_bytes(3, "little") + b"\0\0").digest()[:10]
    stream = _rc4(object_key, content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
        % (owner.hex().encode(), user.hex().encode()),
    ]
    file_id_hex = file_id.hex().encode()
    return pdf_file(objects, b"/Encrypt 6 0 R /ID [<%s> <%s>]" % (file_id_hex, file_id_hex))


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_bad_corpus(root: Path, seed: int = 0) -> tuple[list[BadFile], dict[Path, str]]:
    """The hostile files, and the good files with the word each must be found by."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    bad: list[BadFile] = []

    def add(name: str, data: bytes | str, kind: str, expect: str) -> Path:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
        bad.append(BadFile(path, kind, expect))
        return path

    seeds = root / ".seeds"  # valid files to break (hidden: never indexed themselves)
    seeds.mkdir()
    pdf = write_pdf(seeds / "ok.pdf", [[FRENCH], ["Deuxième page du rapport."]]).read_bytes()
    docx = write_docx(seeds / "ok.docx")
    xlsx, pptx = write_xlsx(seeds / "ok.xlsx"), write_pptx(seeds / "ok.pptx")
    odt, epub = write_odt(seeds / "ok.odt"), write_epub(seeds / "ok.epub")

    # PDFs
    add("pdf/tronque.pdf", pdf[: len(pdf) * 2 // 5], "truncated PDF", "either")
    add("pdf/entete-seul.pdf", b"%PDF-1.7\n", "PDF header only", "reason")
    add("pdf/vide.pdf", b"", "empty PDF", "reason")
    add("pdf/bruit.pdf", b"%PDF-1.4\n" + rng.randbytes(20_000), "PDF of noise", "reason")
    add("pdf/chiffre.pdf", encrypted_pdf(), "password-protected PDF", "reason")
    add("pdf/xref-faux.pdf", pdf.replace(b"startxref", b"startxref\n999999999\n%"),
        "PDF with a wrong cross-reference offset", "either")  # fmt: skip
    loop = pdf.replace(b"/Type /Pages /Kids [3 0 R", b"/Type /Pages /Kids [2 0 R 3 0 R", 1)
    add("pdf/boucle.pdf", loop, "PDF whose page tree contains itself", "either")
    add("pdf/compte.pdf", pdf.replace(b"/Count 2", b"/Count 2000000000", 1),
        "PDF claiming two billion pages", "either")  # fmt: skip
    add("pdf/sans-texte.pdf", pdf.replace(b"Tj", b"Tz"), "PDF without text", "reason")
    # Zip-based documents: bombs, fakes, breakage
    (root / "zip").mkdir()
    bomb = write_zip_bomb(root / "zip" / "bombe.docx")  # 600 MB of zeros in 600 KB
    bad.append(BadFile(bomb, "zip bomb as docx", "reason"))
    for suffix in ("xlsx", "pptx", "epub", "odt"):  # the same bomb under each zip format's name
        add(f"zip/bombe.{suffix}", bomb.read_bytes(), f"zip bomb as {suffix}", "reason")
    add("zip/faux.docx", "Ceci n'est pas un document Word.", "text named .docx", "reason")
    add("zip/vide.xlsx", b"", "empty .xlsx", "reason")
    add("zip/tronque.docx", docx.read_bytes()[:3000], "truncated .docx", "reason")
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as inner_zip:
        inner_zip.writestr("word/document.xml", b"<w:document/>")
    members = _members(docx)
    members["word/document.xml"] = nested.getvalue()
    _zip(root / "zip" / "zip-dans-zip.docx", members)
    bad.append(BadFile(root / "zip" / "zip-dans-zip.docx", "zip inside a .docx", "reason"))
    many = {f"word/media/{i}.xml": b"<a/>" for i in range(20_000)}
    _zip(root / "zip" / "mille-entrees.docx", {**_members(docx), **many})
    bad.append(BadFile(root / "zip" / "mille-entrees.docx", "20,000 entries", "either"))
    members = _members(xlsx)
    sheet = next(n for n in members if n.startswith("xl/worksheets/"))
    members[sheet] = members[sheet].replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/>'
                                            b"<sheetData>", 1)  # fmt: skip
    _zip(root / "zip" / "dimension.xlsx", members)
    bad.append(BadFile(root / "zip" / "dimension.xlsx", "sheet claiming 17 billion cells",
                       "either"))  # fmt: skip
    members = _members(epub)
    members["OEBPS/content.opf"] = members["OEBPS/content.opf"].replace(
        b'href="text/ch1.xhtml"', b'href="../../../etc/passwd"'
    )
    _zip(root / "zip" / "hors-zip.epub", members)
    bad.append(BadFile(root / "zip" / "hors-zip.epub", "EPUB spine outside the book", "either"))
    members = _members(epub)
    del members["META-INF/container.xml"]
    _zip(root / "zip" / "sans-conteneur.epub", members)
    bad.append(BadFile(root / "zip" / "sans-conteneur.epub", "EPUB without container",
                       "reason"))  # fmt: skip
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    laughs = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
        'office:1.0"><office:body><office:text>&lol9;</office:text></office:body>'
        "</office:document-content>"
    ).encode()
    members = _members(odt)
    members["content.xml"] = laughs
    _zip(root / "zip" / "milliard-de-rires.odt", members)
    bad.append(BadFile(root / "zip" / "milliard-de-rires.odt", "billion laughs", "either"))
    members["content.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        b' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        b"<office:text><text:p>XXE &xxe;</text:p></office:text></office:body>"
        b"</office:document-content>"
    )
    _zip(root / "zip" / "entite-externe.odt", members)
    bad.append(BadFile(root / "zip" / "entite-externe.odt", "external entity", "either"))
    deep = b"<w:p>" * 50_000 + b"<w:t>profond</w:t>" + b"</w:p>" * 50_000
    members = _members(docx)
    members["word/document.xml"] = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>" + deep + b"</w:body></w:document>"
    )
    _zip(root / "zip" / "profond.docx", members)
    bad.append(BadFile(root / "zip" / "profond.docx", "50,000-deep XML", "either"))
    members = _members(pptx)
    slide = next(n for n in members if n.startswith("ppt/slides/slide"))
    members[slide] = members[slide][: len(members[slide]) // 2]
    _zip(root / "zip" / "diapo-coupee.pptx", members)
    bad.append(BadFile(root / "zip" / "diapo-coupee.pptx", "slide XML cut in half", "either"))
    # Text
    sparse = root / "texte" / "clairseme.txt"
    sparse.parent.mkdir(parents=True, exist_ok=True)
    with sparse.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    bad.append(BadFile(sparse, "2 GB sparse file", "reason"))
    add("texte/binaire.txt", rng.randbytes(50_000), "random bytes named .txt", "reason")
    add("texte/binaire.md", rng.randbytes(20_000), "random bytes named .md", "reason")
    add("texte/binaire.csv", rng.randbytes(20_000), "random bytes named .csv", "reason")
    add("texte/zeros.txt", b"\0" * 100_000, "zeros named .txt", "reason")
    add("texte/utf8-invalide.txt", FRENCH.encode() + b"\xff\xfe\xc3(\xa0\xa1" + FRENCH.encode(),
        "invalid UTF-8", "indexed")  # fmt: skip
    add("texte/utf16le.txt", FRENCH.encode("utf-16-le"), "UTF-16LE without BOM", "indexed")
    add("texte/utf16be.txt", FRENCH.encode("utf-16-be"), "UTF-16BE without BOM", "indexed")
    add("texte/ligne-longue.txt", ("mot " * 2_000_000).encode(), "one 8 MB line", "either")
    add("texte/champ.csv", b"a;b\n1;" + b"x" * 10_000_000 + b"\n", "10 MB CSV field", "indexed")
    add("texte/guillemet.csv", b'a,b\n"1,2\n' * 10 + b'"\0"', "CSV with a NUL in quotes", "either")
    add("texte/profond.html", "<div>" * 100_000 + "profond" + "</div>" * 100_000,
        "100,000-deep HTML", "either")  # fmt: skip
    add("texte/casse.eml", "Subject: cassé\nContent-Type: multipart/mixed; boundary=\"x\"\n\n"
        "--y\nrien\n--x", "MIME with a wrong boundary", "either")  # fmt: skip
    add("texte/piece.eml", "Subject: pièce\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
        "--b\nContent-Transfer-Encoding: base64\n\n" + "QUJD" * 500_000 + "\n--b--\n",
        "2 MB base64 attachment", "either")  # fmt: skip
    add("texte/boite.mbox", rng.randbytes(30_000), "mailbox of noise", "either")
    add("texte/titres.rst", "=====\nTitre\n===\n\n.. bad::\n  :x:\n\n" * 200,
        "malformed reStructuredText", "either")  # fmt: skip
    # Names
    add("noms/ligne\nsuivante.txt", FRENCH, "newline in the name", "indexed")
    add("noms/🦊 notes 📝.md", f"# Renard\n\n{FRENCH}", "emoji in the name", "indexed")
    add("noms/" + "l" * 240 + ".txt", FRENCH, "240-character name", "indexed")
    raw = os.fsencode(root / "noms") + b"/caf\xe9-latin1.txt"
    fd = os.open(raw, os.O_WRONLY | os.O_CREAT, 0o644)  # a bytes path: no str on the way
    os.write(fd, FRENCH.encode())
    os.close(fd)
    bad.append(BadFile(Path(os.fsdecode(raw)), "invalid UTF-8 bytes in the name", "indexed"))
    # Structure
    deep_dir = root / "profond" / Path(*["d"] * 200)
    deep_dir.mkdir(parents=True)
    add(str((deep_dir / "fond.txt").relative_to(root)), FRENCH, "200 folders deep", "indexed")
    (root / "liens").mkdir()
    (root / "liens" / "boucle").symlink_to(root / "liens")
    (root / "liens" / "soi.txt").symlink_to(root / "liens" / "soi.txt")
    bad.append(BadFile(root / "liens" / "soi.txt", "link to itself", "skipped"))
    (root / "liens" / "pendant.txt").symlink_to(root / "nulle-part.txt")
    bad.append(BadFile(root / "liens" / "pendant.txt", "dangling link", "skipped"))
    os.mkfifo(root / "liens" / "tube.txt")
    bad.append(BadFile(root / "liens" / "tube.txt", "named pipe", "skipped"))
    locked = add("droits/ferme.txt", FRENCH, "unreadable file", "reason")
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads it anyway: then it simply is a file
        bad[-1] = BadFile(locked, "unreadable file (root reads it)", "indexed")

    good: dict[Path, str] = {}
    kinds = (("txt", FRENCH), ("md", "# Titre\n\n" + FRENCH), ("html", f"<p>{FRENCH}</p>"))
    for i, (suffix, text) in enumerate((*kinds, ("csv", "a;b\n1;2"))):
        word = f"zorglub{i}"
        path = root / "bons" / f"bon{i}.{suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"{text}\n{word}\n" if suffix != "csv" else f"{text};{word}\n", "utf-8")
        good[path] = word
    good[write_pdf(root / "bons" / "bon.pdf", [[FRENCH, "zorglubpdf"]])] = "zorglubpdf"
    (root / "bons" / "bon.docx").write_bytes(docx.read_bytes())
    good[root / "bons" / "bon.docx"] = "rsync"
    return bad, good
