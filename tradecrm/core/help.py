"""The user guide inside the app (Help): the Markdown chapters of docs/user-guide/<language>/,
rendered with markdown-it-py (raw HTML off, then nh3 on the result) and cached per file version.

Chapter links written for reading the files on disk (`grading.md`, `analysis.md#lifecycle`) become
links to the Help pages; images under docs/user-guide/img/ are served by the Help view, so the same
files read well in the repository and in the app.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import nh3
from django.conf import settings
from django.urls import reverse
from markdown_it import MarkdownIt

LANGUAGES = ("en", "zh-hans")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
IMAGE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,120}\.(png|jpg|jpeg|svg|webp)$")
_CHAPTER_LINK = re.compile(r"^(?:\./)?([a-z0-9][a-z0-9-]*)\.md(#[\w.-]*)?$")
_IMAGE_LINK = re.compile(r"^(?:\.\./|\./)?img/([A-Za-z0-9_.-]+)$")

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "del", "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "loading"}, "h2": {"id"},
                      "h3": {"id"}, "td": {"style"}, "th": {"style"}}  # fmt: skip


def guide_dir() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "user-guide"


def language_dir(language: str) -> str:
    return "zh-hans" if (language or "").lower().startswith("zh") else "en"


@dataclass(frozen=True)
class Chapter:
    slug: str
    title: str


def _title_of(path: Path) -> str:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem


def chapter_path(slug: str, language: str) -> Path | None:
    """The chapter's file in the language, else in English; None for an unknown or unsafe slug."""
    if not SLUG_RE.match(slug):
        return None
    for lang in dict.fromkeys((language_dir(language), "en")):
        path = guide_dir() / lang / f"{slug}.md"
        if path.is_file():
            return path
    return None


def chapters(language: str) -> list[Chapter]:
    """Every chapter with its title in the language (English where no translation exists),
    in the order of the language's index.md when it lists them, else by file name."""
    lang = language_dir(language)
    slugs = {p.stem for p in (guide_dir() / "en").glob("*.md")} | {p.stem for p in (guide_dir() / lang).glob("*.md")}
    slugs.discard("index")
    order = _index_order(lang)
    ordered = [s for s in order if s in slugs] + sorted(slugs - set(order))
    result = []
    for slug in ordered:
        path = chapter_path(slug, lang)
        if path is not None:
            result.append(Chapter(slug, _title_of(path)))
    return result


def _index_order(lang: str) -> list[str]:
    index = guide_dir() / lang / "index.md"
    if not index.is_file():
        return []
    found = re.findall(r"\]\(([a-z0-9-]+)\.md\)", index.read_text(encoding="utf-8"))
    return list(dict.fromkeys(found))


def _heading_id(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    return re.sub(r"[\s]+", "-", slug)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

    def link_open(renderer, tokens, idx, options, env):
        token = tokens[idx]
        href = token.attrGet("href") or ""
        match = _CHAPTER_LINK.match(href)
        if match:
            token.attrSet("href", reverse("core:help_page", args=[match.group(1)]) + (match.group(2) or ""))
        return renderer.renderToken(tokens, idx, options, env)

    def image(renderer, tokens, idx, options, env):
        token = tokens[idx]
        src = token.attrGet("src") or ""
        match = _IMAGE_LINK.match(src)
        if match:
            token.attrSet("src", reverse("core:help_image", args=[match.group(1)]))
        token.attrSet("loading", "lazy")
        return renderer.image(tokens, idx, options, env)

    def heading_open(renderer, tokens, idx, options, env):
        token = tokens[idx]
        if token.tag in ("h2", "h3") and idx + 1 < len(tokens):
            token.attrSet("id", _heading_id(tokens[idx + 1].content))
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("image", image)
    md.add_render_rule("heading_open", heading_open)
    return md


@functools.lru_cache(maxsize=128)
def _render_cached(path: str, mtime_ns: int) -> str:
    html = _markdown().render(Path(path).read_text(encoding="utf-8"))
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel="noopener")


def render(path: Path) -> str:
    return _render_cached(str(path), path.stat().st_mtime_ns)


def image_path(name: str) -> Path | None:
    if not IMAGE_RE.match(name):
        return None
    path = guide_dir() / "img" / name
    return path if path.is_file() else None
