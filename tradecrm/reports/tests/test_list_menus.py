"""The Export menu is on the list pages that did not have it from the start."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url,entity",
    [
        ("/inquiries/", "inquiries"),
        ("/documents/quotations/", "quotations"),
        ("/documents/proformas/", "proformas"),
        ("/customs/", "customs"),
    ],
)
def test_list_pages_offer_the_export_of_their_list(client_for, carol, alice, url, entity):
    assert f"/exports/{entity}/" in client_for(carol).get(url).content.decode()
    # a sales rep without the export permission sees no menu
    assert f"/exports/{entity}/" not in client_for(alice).get(url).content.decode()
