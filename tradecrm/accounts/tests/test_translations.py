"""zh-Hans must be complete: every msgid of locale/zh_Hans/LC_MESSAGES/django.po translated, none
fuzzy, placeholders kept, and the compiled .mo in use."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{ ?\w+ ?\}\}")


def po_entries(text: str) -> list[dict]:
    """Entries of a .po file as {"flags", "msgid", "msgid_plural", "msgstr": [...]}; header dropped.
    An entry starts at a comment or msgid line that follows a msgstr, blank line or not."""
    entries, entry, field = [], None, None
    for line in [*text.splitlines(), ""]:
        line = line.strip()
        starts = line.startswith(("#", "msgid ", "msgctxt "))
        if entry is not None and (not line or (starts and entry["msgstr"])):
            if entry["msgid"]:
                entries.append(entry)
            entry = None
        if not line:
            continue
        if entry is None:
            entry = {"flags": set(), "msgid": "", "msgid_plural": "", "msgctxt": "", "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if field.startswith("msgstr"):
                entry["msgstr"][field] += ast.literal_eval(line)
            else:
                entry[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            if field.startswith("msgstr"):
                entry["msgstr"][field] = ast.literal_eval(value)
            else:
                entry[field] = ast.literal_eval(value)
    for e in entries:
        e["msgstr"] = list(e["msgstr"].values())
    return entries


def test_parser_reads_entries_flags_and_plurals():
    text = (
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n#: a.py:1\n#, fuzzy, python-format\nmsgid "Hi %(n)s"\n'
        'msgstr ""\n"你好 %(n)s"\n\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\n'
    )
    first, second = po_entries(text)
    assert first["msgid"] == "Hi %(n)s" and "fuzzy" in first["flags"] and first["msgstr"] == ["你好 %(n)s"]
    assert second["msgid_plural"] == "many" and second["msgstr"] == [""]


@pytest.fixture(scope="module")
def entries():
    assert PO.exists(), "run: manage.py makemessages -l zh_Hans"
    return po_entries(PO.read_text(encoding="utf-8"))


def test_every_message_is_translated_and_none_is_fuzzy(entries):
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not e["msgstr"] or not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


def test_placeholders_survive_translation(entries):
    bad = []
    for e in entries:
        allowed = set(PLACEHOLDER.findall(e["msgid"] + e["msgid_plural"]))
        for s in e["msgstr"]:
            found = set(PLACEHOLDER.findall(s))
            if found - allowed or (not e["msgid_plural"] and found != allowed):
                bad.append(e["msgid"])
    assert not bad, bad[:5]


@pytest.mark.parametrize("msgid, expected", [("Customers", "客户"), ("Sign in", "登录")])
def test_compiled_catalog_is_used(msgid, expected):
    with translation.override("zh-hans"):
        assert expected in translation.gettext(msgid)
