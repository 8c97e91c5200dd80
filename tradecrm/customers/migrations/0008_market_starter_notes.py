"""Starter market notes with the certifications most exporters meet first (editable data; deleted
or changed like any other note)."""

from django.db import migrations

STARTERS = {
    "EU": {
        "regulations": "Products placed on the EU market must meet the harmonised directives and regulations "
        "for their category; the importer of record must be established in the EU.",
        "certifications": [
            "CE marking",
            "REACH (chemicals in articles)",
            "RoHS (electrical and electronic equipment)",
        ],
    },
    "US": {
        "regulations": "Food, drugs, cosmetics and medical devices are regulated by the FDA; radio and "
        "electronic devices by the FCC; children's products need a Children's Product Certificate.",
        "certifications": ["FDA registration / clearance", "FCC", "CPSIA (children's products)"],
    },
    "SA": {
        "regulations": "Most consumer and industrial products need a SABER product certificate and a shipment "
        "certificate before customs clearance.",
        "certifications": [
            "SASO / SABER certificate of conformity",
            "SFDA (food, cosmetics, medical devices)",
        ],
    },
}


def add(apps, schema_editor):
    MarketNote = apps.get_model("customers", "MarketNote")
    for code, values in STARTERS.items():
        MarketNote.objects.get_or_create(code=code, defaults=values)


def remove(apps, schema_editor):
    MarketNote = apps.get_model("customers", "MarketNote")
    MarketNote.objects.filter(code__in=list(STARTERS), version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_segments_markets")]

    operations = [migrations.RunPython(add, remove)]
