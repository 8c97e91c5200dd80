"""Help: the user guide served inside the app, in the reader's language."""

import pytest
from django.urls import reverse

from tradecrm.core import help as guide


@pytest.mark.django_db
def test_help_index_lists_chapters_in_english(client_for, alice):
    client = client_for(alice)
    resp = client.get(reverse("core:help"))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Installation and configuration" in body
    # chapter links of the index point at the Help pages, not at .md files
    assert 'href="/help/installation/"' in body
    assert ".md" not in body.split('data-testid="help-body"')[1]


@pytest.mark.django_db
def test_help_page_in_chinese_for_a_chinese_user(client_for, alice):
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    resp = client_for(alice).get(reverse("core:help_page", args=["installation"]))
    assert resp.status_code == 200
    assert "安装与配置" in resp.content.decode()


@pytest.mark.django_db
def test_help_needs_sign_in(client):
    resp = client.get(reverse("core:help_page", args=["installation"]))
    assert resp.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["no-such-chapter", "..-settings", "Installation"])
def test_unknown_or_unsafe_chapter_is_404(client_for, alice, slug):
    assert client_for(alice).get(f"/help/{slug}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["../../README.md", "missing.png", "x.exe"])
def test_help_image_refuses_paths_and_missing_files(client_for, alice, name):
    assert client_for(alice).get("/help/img/" + name).status_code == 404


def test_raw_html_in_a_chapter_is_not_rendered(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs" / "user-guide" / "en").mkdir(parents=True)
    page = tmp_path / "docs" / "user-guide" / "en" / "x.md"
    page.write_text("# X\n\n<script>alert(1)</script>\n\n[next](pool.md#rules) ![s](img/a.png)\n")
    html = guide.render(page)
    assert "<script>" not in html
    assert 'href="/help/pool/#rules"' in html
    assert 'src="/help/img/a.png"' in html


def test_every_english_chapter_has_a_chinese_one():
    en = {p.stem for p in (guide.guide_dir() / "en").glob("*.md")}
    zh = {p.stem for p in (guide.guide_dir() / "zh-hans").glob("*.md")}
    assert en - zh == set()
