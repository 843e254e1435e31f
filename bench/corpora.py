"""Real bilingual manuals from Debian's packages, fetched once into ~/.cache/lanterne-bench/root
(`apt-get download` + `dpkg -x`), for the retrieval benchmarks.

- the Debian Administrator's Handbook, HTML (fr-FR, en-US): the tuning set's HTML;
- the Debian Reference, PDF (fr, en; ~260 pages each): the tuning set's PDFs;
- the Developer's Reference and the New Maintainers' Guide, HTML and PDF (fr, en): the first
  held-out corpus (run once untouched; then used to tune section-level diversification);
- the Debian FAQ (HTML chapters and PDF) and the Installation Guide (HTML, one file per section),
  fr and en: the second held-out corpus, never used while tuning.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

CACHE = Path.home() / ".cache" / "lanterne-bench"
ROOT = CACHE / "root"


def debian_files(package: str, inside: str) -> Path:
    """`inside` (a path under the package's root) once the package is extracted."""
    path = ROOT / inside
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", package], cwd=CACHE, check=True)
    deb = max(CACHE.glob(f"{package}_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(ROOT)], check=True)
    return path


def handbook() -> Path:
    """The handbook's html/ folder (one sub-folder per language)."""
    return debian_files("debian-handbook", "usr/share/doc/debian-handbook/html")


def reference_pdfs() -> dict[str, Path]:
    """The Debian Reference's PDF per language."""
    return {
        lang: debian_files(
            f"debian-reference-{lang}", f"usr/share/debian-reference/debian-reference.{lang}.pdf"
        )
        for lang in ("en", "fr")
    }


def held_out(dest: Path) -> dict[str, dict[str, Path]]:
    """The held-out corpus laid out under dest: {"html": {lang: folder}, "pdf": {lang: folder}}.
    The Developer's Reference's single-page copy, index and search pages are left out (the
    same text twice, or none)."""
    devref = debian_files("developers-reference", "usr/share/developers-reference")
    debian_files("developers-reference-fr", "usr/share/developers-reference/fr")
    maint = {
        "en": debian_files("maint-guide", "usr/share/doc/maint-guide"),
        "fr": debian_files("maint-guide-fr", "usr/share/doc/maint-guide-fr"),
    }
    skipped = {"developers-reference.html", "index.html", "search.html"}
    layout: dict[str, dict[str, Path]] = {"html": {}, "pdf": {}}
    for lang in ("en", "fr"):
        source = devref if lang == "en" else devref / "fr"
        html = dest / f"html-{lang}"
        pdf = dest / f"pdf-{lang}"
        html.mkdir(parents=True)
        pdf.mkdir(parents=True)
        for page in source.glob("*.html"):
            if page.name not in skipped:
                shutil.copy(page, html / page.name)
        for page in (maint[lang] / "html").glob(f"*.{lang}.html"):
            if not page.name.startswith("index."):
                shutil.copy(page, html / page.name)
        shutil.copy(source / "developers-reference.pdf", pdf / "developers-reference.pdf")
        shutil.copy(maint[lang] / f"maint-guide.{lang}.pdf", pdf / "maint-guide.pdf")
        layout["html"][lang] = html
        layout["pdf"][lang] = pdf
    return layout


def held_out_2(dest: Path) -> dict[str, dict[str, Path]]:
    """The second held-out corpus under dest, laid out as held_out() lays out the first. FAQ
    chapters keep their names (basic-defs.en.html / basic-defs.fr.html); the Installation
    Guide's section files have the same name in both languages."""
    faq = {
        "en": debian_files("debian-faq", "usr/share/doc/debian/FAQ"),
        "fr": debian_files("debian-faq-fr", "usr/share/doc/debian/FAQ/fr"),
    }
    guide = debian_files("installation-guide-amd64", "usr/share/doc/installation-guide-amd64")
    layout: dict[str, dict[str, Path]] = {"html": {}, "pdf": {}}
    for lang in ("en", "fr"):
        html = dest / f"html-{lang}"
        pdf = dest / f"pdf-{lang}"
        html.mkdir(parents=True)
        pdf.mkdir(parents=True)
        for page in faq[lang].glob(f"*.{lang}.html"):
            if not page.name.startswith("index."):
                shutil.copy(page, html / page.name)
        for page in (guide / lang).glob("*.html"):
            if page.name != "index.html":
                shutil.copy(page, html / page.name)
        packed = faq["en"] / f"debian-faq.{lang}.pdf.gz"
        (pdf / "debian-faq.pdf").write_bytes(gzip.decompress(packed.read_bytes()))
        layout["html"][lang] = html
        layout["pdf"][lang] = pdf
    return layout
