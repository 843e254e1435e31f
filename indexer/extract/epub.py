"""EPUB books: the chapters in reading order, each read as HTML with its headings.

An EPUB is a zip: `META-INF/container.xml` names the package file, whose spine lists the
chapters (XHTML) in reading order. Each chapter goes through the HTML extractor; its number in
the spine is the page a citation points at. EbookLib is AGPL, so this is done with lxml.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import replace
from pathlib import Path, PurePosixPath

from lxml import etree

from lanterne.indexer.document import ExtractedDocument, ExtractionError
from lanterne.indexer.extract.html import extract_html
from lanterne.indexer.extract.zip_check import check_zip, read_member
from lanterne.indexer.reasons import EPUB_NO_CHAPTER, EPUB_NO_CONTENTS, worded

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(read_member(archive, name, "EPUB"), parser)


def extract_epub(path: Path, data: bytes) -> ExtractedDocument:
    archive = check_zip(data, "EPUB")
    try:
        container = _xml(archive, "META-INF/container.xml")
        rootfile = container.find(f".//{_CONTAINER}rootfile")
        opf_name = rootfile.get("full-path", "") if rootfile is not None else ""
        package = _xml(archive, opf_name)
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(worded(EPUB_NO_CONTENTS)) from exc
    base = posixpath.dirname(opf_name)
    manifest = {
        item.get("id"): item.get("href", "")
        for item in package.iter(f"{_OPF}item")
        if "html" in item.get("media-type", "")
    }
    title_node = package.find(f".//{_DC}title")
    title = (title_node.text or "").strip() if title_node is not None else ""
    document = ExtractedDocument(path=path, title=title or path.stem)
    for number, ref in enumerate(package.iter(f"{_OPF}itemref"), start=1):
        href = manifest.get(ref.get("idref"))
        if not href:
            continue
        name = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
        try:
            chapter = extract_html(
                Path(PurePosixPath(name).name), read_member(archive, name, "EPUB")
            )
        except ExtractionError:
            continue  # a missing chapter must not lose the rest of the book
        document.blocks += [replace(b, page=number, line=None) for b in chapter.blocks]
    if not document.blocks:
        raise ExtractionError(worded(EPUB_NO_CHAPTER))
    return document
