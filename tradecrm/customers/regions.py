"""Trade regions a market note can be written for, with their member countries (ISO alpha-2).

A customer in Germany is linked to the notes of DE and of every region holding DE (EU). The lists
are the memberships as of 2026; they change rarely, so they live here rather than in the database.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

REGIONS: dict[str, tuple] = {
    "EU": (_("European Union"), (
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    )),
    "EEA": (_("European Economic Area"), (
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    )),
    "GCC": (_("Gulf Cooperation Council"), ("SA", "AE", "QA", "KW", "BH", "OM")),
    "ASEAN": (_("ASEAN"), ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN")),
    "LATAM": (_("Latin America"), (
        "AR", "BO", "BR", "CL", "CO", "CR", "CU", "DO", "EC", "SV", "GT", "HN", "MX", "NI", "PA", "PY", "PE", "PR",
        "UY", "VE",
    )),
    "EAEU": (_("Eurasian Economic Union"), ("RU", "BY", "KZ", "KG", "AM")),
    "USMCA": (_("USMCA (North America)"), ("US", "CA", "MX")),
    "AFCFTA": (_("African Continental Free Trade Area"), (
        "DZ", "AO", "BJ", "BW", "BF", "BI", "CV", "CM", "CF", "TD", "KM", "CG", "CD", "CI", "DJ", "EG", "GQ", "ER",
        "SZ", "ET", "GA", "GM", "GH", "GN", "GW", "KE", "LS", "LR", "LY", "MG", "MW", "ML", "MR", "MU", "MA", "MZ",
        "NA", "NE", "NG", "RW", "ST", "SN", "SC", "SL", "SO", "ZA", "SS", "SD", "TZ", "TG", "TN", "UG", "ZM", "ZW",
    )),
}  # fmt: skip


def region_name(code: str) -> str:
    entry = REGIONS.get(code)
    return str(entry[0]) if entry else code


def regions_of(country: str) -> list[str]:
    """The region codes a country belongs to, in the order above."""
    return [code for code, (_name, members) in REGIONS.items() if country in members]


def region_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} · {name}") for code, (name, _members) in REGIONS.items()]
