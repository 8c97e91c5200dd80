"""The default export pipeline and loss reasons that migration 0002 seeds, and how their names are
shown.

Seeded rows are stored with their English name and a `key`. While an administrator has not renamed
one (its name is still the seeded English one), it is shown in the reader's language; a renamed one
is shown as typed. The English names below are the msgids, so they are in the catalogue.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

# key: (English name as stored, translatable label, win probability %, kind, stale after N days)
STAGES: dict[str, tuple[str, object, int, str, int | None]] = {
    "inquiry": ("Inquiry", pgettext_lazy("pipeline stage", "Inquiry"), 10, "open", 7),
    "quoted": ("Quoted", pgettext_lazy("pipeline stage", "Quoted"), 30, "open", 14),
    "sample": ("Sample", pgettext_lazy("pipeline stage", "Sample"), 50, "open", 30),
    "negotiation": ("Negotiation", pgettext_lazy("pipeline stage", "Negotiation"), 70, "open", 14),
    "contract": ("PI / contract", pgettext_lazy("pipeline stage", "PI / contract"), 90, "open", 14),
    "won": ("Won", pgettext_lazy("pipeline stage", "Won"), 100, "won", None),
    "lost": ("Lost", pgettext_lazy("pipeline stage", "Lost"), 0, "lost", None),
}

PIPELINE = ("Export", pgettext_lazy("pipeline", "Export"))

LOSS_REASONS: dict[str, tuple[str, object]] = {
    "price": ("Price too high", pgettext_lazy("loss reason", "Price too high")),
    "competitor": ("Chose a competitor", pgettext_lazy("loss reason", "Chose a competitor")),
    "no_reply": ("No reply from the buyer", pgettext_lazy("loss reason", "No reply from the buyer")),
    "quality": ("Quality or certification", pgettext_lazy("loss reason", "Quality or certification")),
    "lead_time": ("Lead time too long", pgettext_lazy("loss reason", "Lead time too long")),
    "moq": ("MOQ too high", pgettext_lazy("loss reason", "MOQ too high")),
    "payment_terms": ("Payment terms", pgettext_lazy("loss reason", "Payment terms")),
    "cancelled": ("Project cancelled", pgettext_lazy("loss reason", "Project cancelled")),
    "other": ("Other", pgettext_lazy("loss reason", "Other")),
}


def stage_label(key: str, name: str) -> str:
    """A stage's name for display: translated while it is still the seeded English name."""
    seeded = STAGES.get(key or "")
    if seeded is not None and name == seeded[0]:
        return str(seeded[1])
    return name


def loss_reason_label(key: str, name: str) -> str:
    seeded = LOSS_REASONS.get(key or "")
    if seeded is not None and name == seeded[0]:
        return str(seeded[1])
    return name


def pipeline_label(name: str) -> str:
    return str(PIPELINE[1]) if name == PIPELINE[0] else name


def display_name(obj) -> str:
    """The name of a Stage, LossReason or Pipeline (or a dict with `name` and `key`) as shown."""
    from .models import LossReason, Pipeline, Stage

    if isinstance(obj, dict):
        return stage_label(obj.get("key", ""), obj.get("name", ""))
    if isinstance(obj, Stage):
        return stage_label(obj.key, obj.name)
    if isinstance(obj, LossReason):
        return loss_reason_label(obj.key, obj.name)
    if isinstance(obj, Pipeline):
        return pipeline_label(obj.name)
    return str(obj)
