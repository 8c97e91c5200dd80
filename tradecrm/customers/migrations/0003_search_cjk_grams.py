"""Add the CJK character/pair tokens to existing search_text (see tradecrm/core/search.py), so
1–2-character Chinese queries use the trigram index. On SQLite the FTS triggers follow."""

from django.db import migrations

from tradecrm.core.search import cjk_gram_tokens, strip_gram_tokens


def with_grams(text: str) -> str:
    text = strip_gram_tokens(text)
    grams = cjk_gram_tokens(text)
    return f"{text} {grams}" if grams else text


def forwards(apps, schema_editor):
    for name in ("Company", "Contact"):
        model = apps.get_model("customers", name)
        last = 0
        while True:
            rows = list(
                model.objects.filter(id__gt=last).order_by("id").values_list("id", "search_text")[:2000]
            )
            if not rows:
                break
            for pk, text in rows:
                new = with_grams(text)
                if new != text:
                    model.objects.filter(pk=pk).update(search_text=new)
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_index")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
