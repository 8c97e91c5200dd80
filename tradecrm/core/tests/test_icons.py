import pytest
from django.template import Context, Template

from tradecrm.core.icons import icon


def test_icon_is_inline_svg_hidden_from_screen_readers():
    svg = icon("brand-whatsapp", "text-green")
    assert svg.startswith("<svg") and 'aria-hidden="true"' in svg and "icon-tabler-brand-whatsapp" in svg
    assert 'class="icon text-green ' in svg and "\n" not in svg


def test_template_tag_renders_the_same_svg():
    html = Template('{% load icons %}<b>{% icon "phone" %}</b>').render(Context())
    assert html == f"<b>{icon('phone')}</b>"


@pytest.mark.parametrize("name", ["no-such-icon", "../secret", "Phone"])
def test_unknown_or_unsafe_names_are_refused(name):
    with pytest.raises(ValueError, match="unknown icon"):
        icon(name)
