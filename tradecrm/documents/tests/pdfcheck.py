"""Checks on rendered PDFs for the tests of every trade document (pypdfium2, no poppler).

    pdf_text(data)                 the text of all pages ("\\n" between lines and pages)
    page_texts(data)               the text of each page
    page_count(data)
    image_count(data)              image objects on all pages (e.g. the letterhead logo)
    assert_cjk_glyphs_rendered(data, "报价单")
                                   the characters are really drawn, not as tofu (□)
    latin_only_font_config()       a WeasyPrint FontConfiguration that knows no CJK font, to prove
                                   that the glyph check fails on tofu

Why a bitmap check: when no font has a character, WeasyPrint draws the first font's .notdef glyph
(an empty box) but still maps it to the right character in the PDF's text layer, so the extracted
text looks perfect. Only the drawing shows the difference: every missing character is the same box.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
INK = 128  # grey level below which a pixel counts as ink
SIGNATURE = 16  # ink shapes are compared as SIGNATURE × SIGNATURE bitmaps
SAME_SHAPE = 0.06  # two crops differing in fewer than 6 % of the signature's pixels are the same


@contextlib.contextmanager
def _document(data: bytes) -> Iterator[pdfium.PdfDocument]:
    doc = pdfium.PdfDocument(data)
    try:
        yield doc
    finally:
        doc.close()


def page_texts(data: bytes) -> list[str]:
    texts = []
    with _document(data) as doc:
        for page in doc:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range().replace("\r\n", "\n"))
            textpage.close()
            page.close()
    return texts


def pdf_text(data: bytes) -> str:
    return "\n".join(page_texts(data))


def page_count(data: bytes) -> int:
    with _document(data) as doc:
        return len(doc)


def image_count(data: bytes) -> int:
    count = 0
    with _document(data) as doc:
        for page in doc:
            count += sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
            page.close()
    return count


def _ink_signature(crop: Image.Image) -> tuple[int, bytes]:
    """(ink pixel count, the ink's shape scaled into its own bounding box as SIGNATURE² bits)."""
    ink = crop.point(lambda v: 255 if v < INK else 0)
    pixels = sum(1 for v in ink.get_flattened_data() if v)
    box = ink.getbbox()
    if not box:
        return 0, b""
    shape = ink.crop(box).resize((SIGNATURE, SIGNATURE), Image.Resampling.BILINEAR)
    return pixels, bytes(1 if v >= 128 else 0 for v in shape.get_flattened_data())


def _difference(a: bytes, b: bytes) -> float:
    return sum(x != y for x, y in zip(a, b, strict=True)) / len(a)


def assert_cjk_glyphs_rendered(data: bytes, text: str = "报价单", *, scale: float = 4.0) -> None:
    """Fail unless `text` (its first occurrence) is drawn with real glyphs: every character's box
    has ink, and any two different characters are drawn differently (tofu boxes are identical)."""
    if len(set(text)) < 2:
        raise ValueError("give at least two different characters: tofu is detected by comparing them")
    with _document(data) as doc:
        for page_no, page in enumerate(doc, start=1):
            textpage = page.get_textpage()
            searcher = textpage.search(text, match_case=True)
            found = searcher.get_next()
            searcher.close()
            if not found:
                textpage.close()
                page.close()
                continue
            index, count = found
            assert textpage.get_text_range(index, count) == text, f"“{text}” found but not as one run"
            height = page.get_height()
            bitmap = page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil().convert("L")
            signatures: dict[str, bytes] = {}
            for i, char in enumerate(text):
                left, bottom, right, top = textpage.get_charbox(index + i)
                # The glyph's own box, not more: neighbouring boxes touch (tofu boxes do).
                crop = image.crop(
                    (
                        max(0, math.floor(left * scale)),
                        max(0, math.floor((height - top) * scale)),
                        min(image.width, math.ceil(right * scale)),
                        min(image.height, math.ceil((height - bottom) * scale)),
                    )
                )
                pixels, signature = _ink_signature(crop)
                assert pixels >= 4, f"no ink where “{char}” is drawn (page {page_no})"
                if not char.isspace():
                    signatures.setdefault(char, signature)
            textpage.close()
            page.close()
            chars = list(signatures)
            for a_index, a in enumerate(chars):
                for b in chars[a_index + 1 :]:
                    assert _difference(signatures[a], signatures[b]) >= SAME_SHAPE, (
                        f"“{a}” and “{b}” are drawn as the same shape (page {page_no}): "
                        "missing glyphs drawn as tofu boxes — is the CJK font installed?"
                    )
            return
    raise AssertionError(f"“{text}” is not in the PDF's text")


@contextlib.contextmanager
def latin_only_font_config() -> Iterator[object]:
    """A WeasyPrint FontConfiguration whose fontconfig sees only the DejaVu fonts (no CJK), so
    Chinese text falls back to nothing and is drawn as .notdef boxes."""
    from weasyprint.text.fonts import FontConfiguration

    if not DEJAVU_DIR.is_dir():
        raise FileNotFoundError(f"{DEJAVU_DIR} (Debian's fonts-dejavu-core) is needed for this check")
    with tempfile.TemporaryDirectory(prefix="latin-fonts-") as tmp:
        conf = Path(tmp) / "fonts.conf"
        conf.write_text(
            '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
            f"<fontconfig><dir>{DEJAVU_DIR}</dir><cachedir>{tmp}/cache</cachedir></fontconfig>\n"
        )
        # fontconfig reads FONTCONFIG_FILE when a configuration is loaded: only while creating it.
        previous = os.environ.get("FONTCONFIG_FILE")
        os.environ["FONTCONFIG_FILE"] = str(conf)
        try:
            config = FontConfiguration()
        finally:
            if previous is None:
                del os.environ["FONTCONFIG_FILE"]
            else:
                os.environ["FONTCONFIG_FILE"] = previous
        yield config
