"""Timeline attachments are stored AES-GCM encrypted (core/crypto.py, decision 0011): encrypt the
files stored before. Each file is rewritten atomically; running it again skips encrypted files."""

from django.db import migrations


def encrypt_files(apps, schema_editor):
    from tradecrm.core.crypto_rotate import reencrypt_files

    Attachment = apps.get_model("interactions", "Attachment")
    if Attachment.objects.exists():
        reencrypt_files(models=[(Attachment, "file", "interactions.attachment.file")])


class Migration(migrations.Migration):
    dependencies = [("interactions", "0003_company_id_index")]
    operations = [migrations.RunPython(encrypt_files, migrations.RunPython.noop, elidable=True)]
