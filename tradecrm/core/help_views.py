"""Help: the user guide inside the app, in the reader's language."""

from __future__ import annotations

import mimetypes

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from . import help as guide


@login_required
def help_index(request):
    index = guide.chapter_path("index", get_language())
    return render(request, "core/help.html", {
        "nav": "help", "chapters": guide.chapters(get_language()), "current": None,
        "body": mark_safe(guide.render(index)) if index else None,  # see help_page
    })  # fmt: skip


@login_required
def help_page(request, slug: str):
    path = guide.chapter_path(slug, get_language())
    if path is None:
        raise Http404
    return render(request, "core/help.html", {
        "nav": "help", "chapters": guide.chapters(get_language()), "current": slug,
        "body": mark_safe(guide.render(path)),  # rendered without raw HTML, then cleaned by nh3
    })  # fmt: skip


@login_required
def help_image(request, name: str):
    path = guide.image_path(name)
    if path is None:
        raise Http404
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
