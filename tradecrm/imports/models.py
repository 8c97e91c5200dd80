"""Import jobs: one uploaded file, its column mapping, the dry-run report, the chunks committed
(the checkpoint a restart resumes from, and the ids created, so a job can be undone), the rows
changed (their values before, for undo) and the rows rejected (their original cells and why)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped


class Entity(models.TextChoices):
    COMPANIES = "companies", _("Companies")
    CONTACTS = "contacts", _("Contacts")
    PRODUCTS = "products", _("Products")
    CUSTOMS = "customs", _("Customs records")


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKED = "checked", _("Checked (dry run)")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    UNDONE = "undone", _("Undone")


class ImportJob(TimeStamped):
    entity = models.CharField(_("what is imported"), max_length=16, choices=Entity.choices)
    source = models.CharField(_("source"), max_length=32)
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.UPLOADED
    )
    filename = models.CharField(_("file name"), max_length=255)
    stored_path = models.CharField(max_length=500, editable=False)  # relative to DATA_DIR
    file_size = models.BigIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_kind = models.CharField(max_length=8, blank=True)  # csv | xlsx | xls | ods | vcf
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    sheet = models.CharField(max_length=120, blank=True)
    header_row = models.PositiveIntegerField(default=1)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)  # {"<column index>": "<target field>"}
    mapping_name = models.CharField(max_length=120, blank=True)
    options = models.JSONField(default=dict, blank=True)  # owner, tags, on_duplicate, default country…
    report = models.JSONField(default=dict, blank=True)  # the last dry run: counts and sample rows
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)  # data rows processed and committed (checkpoint)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)  # of updated + merged: rows that changed nothing
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    # Set when a process takes the run; each chunk commits only while it still holds it, so a run
    # thought dead (and queued again) that wakes up cannot write beside its successor.
    runner = models.CharField(max_length=32, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            models.Index(fields=["created_by", "created_at"], name="importjob_user_idx"),
            models.Index(fields=["team", "created_at"], name="importjob_team_idx"),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} {self.filename}"


class ImportChunk(models.Model):
    """One committed chunk: written in the same transaction as its rows, so `rows_done` and the
    chunks never disagree with what is in the tables."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    first_row = models.PositiveIntegerField()  # file row numbers, as the spreadsheet shows them
    last_row = models.PositiveIntegerField()
    created_ranges = models.JSONField(default=dict)  # {"customers.company": [[first_id, last_id], …], …}
    counts = models.JSONField(default=dict)
    committed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="importchunk_unique_seq")]

    def __str__(self) -> str:
        return f"import {self.job_id} chunk {self.seq}"


class ImportChange(models.Model):
    """A record an import updated or merged into: its values before, so undo can put them back."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes")
    row = models.PositiveIntegerField()
    model = models.CharField(max_length=40)  # "customers.company"
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=8)  # updated | merged
    before = models.JSONField(default=dict)
    # what the import wrote: undo puts a field back only while it still holds this value, so a
    # change someone made after the import is never overwritten
    after = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["job", "model", "object_id"], name="importchange_job_idx")]

    def __str__(self) -> str:
        return f"import {self.job_id} row {self.row} {self.action} {self.model} {self.object_id}"


class ImportRejection(models.Model):
    """A row not imported: its original cells and every reason, for the rejected-rows file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row = models.PositiveIntegerField()
    cells = models.JSONField(default=list)
    reasons = models.JSONField(default=list)  # ["column “E-mail”: “x@” is not an email address", …]

    class Meta:
        indexes = [models.Index(fields=["job", "row"], name="importrejection_job_idx")]

    def __str__(self) -> str:
        return f"import {self.job_id} row {self.row} rejected"


class MappingTemplate(TimeStamped):
    """A saved column mapping, by header text, for one kind of file (a vendor's customs export, a
    trade show's lead list…)."""

    name = models.CharField(_("name"), max_length=120)
    entity = models.CharField(_("what is imported"), max_length=16, choices=Entity.choices)
    source = models.CharField(_("source"), max_length=32)
    mapping = models.JSONField(default=dict)  # {"<header text, normalised>": "<target field>"}
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("saved mapping")
        verbose_name_plural = _("saved mappings")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "entity", "name"], name="mapping_unique_name", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return self.name
