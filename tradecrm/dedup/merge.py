"""Merging duplicate customers (companies) or contacts into one record, and undoing a merge.

A merge (`company_merge`, `contact_merge`):
1. loads every record for the actor (404 when one is not visible) and checks the actor may merge
   them: administrators and managers may merge what they see; a sales rep only records owned by
   themselves or by their own team (`_check_may_merge`);
2. gives each field of the kept record the value of the record chosen for it (default: the kept
   record's value, else the first non-empty one); list fields (phones, email domains, HS codes,
   emails) are unioned; notes may be combined;
3. moves every row that refers to a merged record to the kept one. The relations are discovered
   from the model's meta (`relations()`), never listed by hand: an FK declared with
   related_name="+" (orders, quotations, proforma invoices, receivables, payments, notifications)
   is hidden from `_meta.related_objects`, so that alone would silently miss them. A row that
   would break a unique constraint once moved (the same tag on both records, the same synced
   email twice, a second open automatic follow-up of one kind) is deleted instead, together with
   whatever its deletion cascades to, and kept in full in the MergeRecord;
4. adjusts references by id rather than FK: links of notifications to a merged record's page,
   duplicate pairs (marked merged). Audit events are not rewritten (the log is append-only); each
   merged id gets a "merged into" event instead, so its history leads to the kept record;
5. deletes the merged records (their full rows kept) and refreshes the match keys.

`merge_undo` reverses it: re-inserts every deleted row with its id and exact values, moves the
moved rows back (those still on the kept record), restores the other changed columns, and puts the
kept record's fields back — each field only when nobody changed it since the merge.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, models, transaction
from django.db.models import Count, F
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.db.models.fields.files import FieldFile
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.customers.models import Company, CompanyHsCode, Contact

from .models import CompanyKey, ContactKey, DuplicatePair, MergeRecord, PairStatus
from .sweep import regroup

MAX_RECORDS = 20  # one merge; more than this is a clean-up job, not a duplicate
ENTITY_NAMES = {"companies": "company", "contacts": "contact", "company": "company", "contact": "contact"}
# Rebuilt from the records (refresh_*_keys; the HS-code rows by database triggers on the company
# table): never moved, never kept in a MergeRecord.
DERIVED: tuple[type[models.Model], ...] = (CompanyKey, ContactKey, CompanyHsCode)
# Chosen value meaning "all the records' texts, one after the other" (only for `combinable` fields).
COMBINE = 0
_BATCH = 500  # ids per IN (...) when moving rows back

# Readable names for relations whose model has no verbose name of its own.
_RELATION_LABELS = {
    "customers.companytag": gettext_lazy("Tags"),
    "customers.companyfollower": gettext_lazy("Followers"),
    "followups.notification": gettext_lazy("Notifications"),
    "interactions.interaction_contacts": gettext_lazy("Interactions (as other contact)"),
}


@dataclass(frozen=True)
class _Spec:
    entity: str  # MergeRecord.entity and DuplicatePair.entity
    model: type[models.Model]
    union: tuple[str, ...]  # list fields whose values are unioned
    fixed: frozenset[str]  # bookkeeping or derived fields nobody chooses
    combinable: tuple[str, ...]  # text fields that may keep every record's text
    extra_choices: tuple[str, ...] = ()  # non-editable fields that are still chosen

    def choosable(self) -> list[models.Field]:
        return [
            f
            for f in self.model._meta.concrete_fields
            if (f.editable or f.name in self.extra_choices)
            and not f.primary_key
            and f.name not in self.fixed
            and f.name not in self.union
        ]


_BOOKKEEPING = frozenset(
    {"id", "created_at", "updated_at", "version", "search_text", "created_by", "updated_by"}
)
COMPANY = _Spec(
    "company",
    Company,
    union=("phones", "email_domains", "hs_codes"),
    fixed=_BOOKKEEPING | {"team", "last_contact_at", "next_followup_at", "reviewed_at"},
    combinable=("notes", "main_products"),
)
CONTACT = _Spec(
    "contact",
    Contact,
    union=("emails", "phones"),
    fixed=_BOOKKEEPING | {"company", "is_primary"},
    combinable=("notes",),
    extra_choices=("email",),  # the primary email: which one leads the unioned list
)
SPECS = {"company": COMPANY, "contact": CONTACT}
# Columns of the kept record that undo never puts back: they record the undo itself.
_NOT_RESTORED = frozenset({"id", "created_at", "updated_at", "updated_by_id", "version", "created_by_id"})


# --- rows as JSON -------------------------------------------------------------------------------


def _dump(value):
    """A column value as JSON that `field.to_python` turns back into the same value (microseconds
    included: DjangoJSONEncoder would cut datetimes to milliseconds)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _row(obj: models.Model) -> dict:
    return {f.attname: _dump(f.value_from_object(obj)) for f in obj._meta.concrete_fields}


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _model(label: str) -> type[models.Model]:
    app_label, model_name = label.split(".", 1)
    return apps.get_model(app_label, model_name)


def _field(model: type[models.Model], attname: str) -> models.Field:
    for f in model._meta.concrete_fields:
        if f.attname == attname:
            return f
    raise LookupError(attname)


# --- what refers to a record --------------------------------------------------------------------


def relations(model: type[models.Model]) -> list[models.ForeignKey]:
    """Every foreign key (one-to-one included, and the keys of many-to-many tables) that points at
    `model`, in a fixed order. Hidden ones (related_name="+") too: `_meta.related_objects` leaves
    them out."""
    found = set()
    for rel in model._meta.get_fields(include_hidden=True):
        # A ManyToManyRel is served by its through table's foreign key, which is listed on its own.
        if not rel.auto_created or rel.concrete or rel.many_to_many:
            continue
        field = rel.field
        if field.model in DERIVED or field.model._meta.proxy or not field.concrete:
            continue
        found.add(field)
    return sorted(found, key=lambda f: (_label(f.model), f.attname))


def relation_key(fk: models.ForeignKey) -> str:
    return f"{_label(fk.model)}.{fk.attname}"


def relation_label(fk_or_label) -> str:
    label = fk_or_label if isinstance(fk_or_label, str) else _label(fk_or_label.model)
    if label in _RELATION_LABELS:
        return str(_RELATION_LABELS[label])
    model = _model(label)
    return str(capfirst(model._meta.verbose_name_plural))


def _unique_sets(
    model: type[models.Model], fk: models.ForeignKey
) -> list[tuple[tuple[str, ...], object, bool]]:
    """The unique rules a row of `model` must keep when its `fk` changes: (the other fields,
    the condition or None, whether NULLs never collide)."""
    sets: list[tuple[tuple[str, ...], object, bool]] = []
    if fk.unique:
        sets.append(((), None, True))
    for together in model._meta.unique_together:
        if fk.name in together:
            sets.append((tuple(n for n in together if n != fk.name), None, True))
    for c in model._meta.constraints:
        if isinstance(c, models.UniqueConstraint) and c.fields and fk.name in c.fields:
            sets.append(
                (tuple(n for n in c.fields if n != fk.name), c.condition, c.nulls_distinct is not False)
            )
    return sets


def related_counts(model: type[models.Model], ids: list[int]) -> list[dict]:
    """Per relation, how many rows point at each record: [{"key", "label", "counts": {id: n}}]."""
    out = []
    for fk in relations(model):
        rows = (
            fk.model._base_manager.filter(**{f"{fk.attname}__in": ids})
            .values_list(fk.attname)
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts = dict(rows)
        if counts:
            out.append({"key": relation_key(fk), "label": relation_label(fk), "counts": counts})
    return out


# --- deleting with a full record ----------------------------------------------------------------


def _delete_keeping_rows(model: type[models.Model], pks: list, removed: dict, changed: list) -> None:
    """Delete rows and everything their deletion cascades to, first copying every deleted row
    into `removed` ({label: [row]}) and every column set to NULL on delete into `changed`."""
    objs = list(model._base_manager.filter(pk__in=pks))
    if not objs:
        return
    collector = Collector(using=DEFAULT_DB_ALIAS, origin=objs[0])
    try:
        collector.collect(objs)
    except (ProtectedError, RestrictedError) as exc:
        blocking = sorted({relation_label(_label(o._meta.model)) for o in exc.args[1]})
        raise ValidationError(
            _("%(what)s cannot be removed: %(others)s still refer to it. Change those first.")
            % {"what": capfirst(model._meta.verbose_name), "others": ", ".join(blocking)}
        ) from None
    for m, instances in collector.data.items():
        if m not in DERIVED:
            removed.setdefault(_label(m), []).extend(_row(o) for o in instances)
    for qs in collector.fast_deletes:
        m = qs._meta.model if hasattr(qs, "_meta") else qs.model
        if m in DERIVED:
            continue
        rows = [qs] if hasattr(qs, "_meta") else list(qs.all())
        removed.setdefault(_label(m), []).extend(_row(o) for o in rows)
    for (field, value), batches in collector.field_updates.items():
        for batch in batches:
            pairs = (
                batch.values_list("pk", field.attname)
                if isinstance(batch, models.QuerySet)
                else [(o.pk, getattr(o, field.attname)) for o in batch]
            )
            for pk, old in pairs:
                if old != value:
                    changed.append({"model": _label(field.model), "id": pk, "values": {field.attname: _dump(old)},
                                    "after": {field.attname: _dump(value)}})  # fmt: skip
    collector.delete()


# --- moving what refers to the merged records ---------------------------------------------------


def _move_relation(fk: models.ForeignKey, keep_id: int, merge_ids: list[int], moved: dict, removed: dict,
                   changed: list) -> None:  # fmt: skip
    model, att = fk.model, fk.attname
    mgr = model._base_manager
    rows = list(mgr.filter(**{f"{att}__in": merge_ids}).values_list("pk", att))
    if not rows:
        return
    rank = {m: i for i, m in enumerate(merge_ids)}
    rows.sort(key=lambda r: (rank[r[1]], r[0]))
    sets = _unique_sets(model, fk)
    if sets:
        taken, candidates = [], []
        for others, condition, _nulls in sets:
            on_kept = mgr.filter(**{att: keep_id})
            mine = mgr.filter(**{f"{att}__in": merge_ids})
            if condition is not None:
                on_kept, mine = on_kept.filter(condition), mine.filter(condition)
            if others:
                taken.append(set(on_kept.values_list(*others)))
            else:
                taken.append({()} if on_kept.exists() else set())
            candidates.append({r[0]: tuple(r[1:]) for r in mine.values_list("pk", *others)})
        collide = []
        for pk, _old in rows:
            keys = [c.get(pk) for c in candidates]  # None: the rule's condition does not hold
            if any(
                k is not None and not (nulls and None in k) and k in t
                for k, t, (_o, _c, nulls) in zip(keys, taken, sets, strict=True)
            ):
                collide.append(pk)
                continue
            for k, t in zip(keys, taken, strict=True):
                if k is not None:
                    t.add(k)
        if collide:
            _delete_keeping_rows(model, collide, removed, changed)
            rows = list(mgr.filter(**{f"{att}__in": merge_ids}).values_list("pk", att))
    if not rows:
        return
    by_old: dict[str, list] = {}
    for pk, old in rows:
        by_old.setdefault(str(old), []).append(pk)
    moved[relation_key(fk)] = by_old
    mgr.filter(**{f"{att}__in": merge_ids}).update(**{att: keep_id})


def _change(changed: list, obj_model, pk, before: dict, after: dict) -> None:
    changed.append({"model": _label(obj_model), "id": pk, "values": {k: _dump(v) for k, v in before.items()},
                    "after": {k: _dump(v) for k, v in after.items()}})  # fmt: skip


def _after_company_move(keep_id: int, merge_ids: list[int], moved_contacts: set[int], changed: list) -> None:
    """What a plain FK update leaves wrong: one primary contact per customer, and notification
    links that lead to a merged customer's page."""
    primaries = list(
        Contact.objects.filter(company_id=keep_id, is_primary=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if len(primaries) > 1:
        # the kept customer's own primary stays primary; otherwise the first moved one
        own = set(
            Contact.objects.filter(company_id=keep_id, pk__in=primaries)
            .exclude(pk__in=moved_contacts)
            .values_list("id", flat=True)
        )
        keep_primary = min(own) if own else primaries[0]
        demote = [p for p in primaries if p != keep_primary]
        for pk in demote:
            _change(changed, Contact, pk, {"is_primary": True}, {"is_primary": False})
        Contact.objects.filter(pk__in=demote).update(is_primary=False)
    from tradecrm.followups.models import Notification

    new_prefix = reverse("customers:company_detail", args=[keep_id])
    for mid in merge_ids:
        prefix = reverse("customers:company_detail", args=[mid])
        # The producers set `company` on every notification that links to a customer page, and
        # those were just moved: the company index finds them without scanning every notification.
        linking = Notification.objects.filter(company_id=keep_id, url__startswith=prefix)
        for pk, url in linking.values_list("id", "url"):
            new = new_prefix + url[len(prefix) :]
            _change(changed, Notification, pk, {"url": url}, {"url": new})
            Notification.objects.filter(pk=pk).update(url=new)


def _mark_pairs(entity: str, ids: list[int], actor, changed: list) -> None:
    """Pairs that name a merged record are settled: marked merged (undo puts them back)."""
    qs = DuplicatePair.objects.filter(entity=entity).exclude(status=PairStatus.MERGED)
    pairs = list(qs.filter(a_id__in=ids).values_list("id", "status", "decided_by_id")) + list(
        qs.filter(b_id__in=ids).exclude(a_id__in=ids).values_list("id", "status", "decided_by_id")
    )
    by = getattr(actor, "pk", None)
    for pk, status, decided_by in pairs:
        _change(changed, DuplicatePair, pk, {"status": status, "decided_by_id": decided_by},
                {"status": PairStatus.MERGED, "decided_by_id": by})  # fmt: skip
    if pairs:
        DuplicatePair.objects.filter(pk__in=[p[0] for p in pairs]).update(
            status=PairStatus.MERGED, decided_by_id=by
        )


# --- loading and permissions --------------------------------------------------------------------


def _check_ids(keep_id, merge_ids) -> list[int]:
    from tradecrm.core.ids import parse_id

    keep = parse_id(keep_id)
    if keep is None:
        raise ValidationError({"keep": [_("Choose the record to keep.")]})
    others: list[int] = []
    for raw in merge_ids or []:
        pk = parse_id(raw)
        if pk is None:
            raise ValidationError({"merge": [_("“%(value)s” is not a record id.") % {"value": raw}]})
        if pk != keep and pk not in others:
            others.append(pk)
    if not others:
        raise ValidationError({"merge": [_("Choose at least one other record to merge into the kept one.")]})
    if len(others) + 1 > MAX_RECORDS:
        raise ValidationError(
            {"merge": [_("At most %(n)d records can be merged at once.") % {"n": MAX_RECORDS}]}
        )
    return [keep, *others]


def _visible(spec: _Spec, user, pk: int):
    """The record for the user; Http404 when missing or not visible, like every load by id."""
    from tradecrm.customers.selectors import company_get_for_user, contact_get_for_user

    if user is None:  # the console, acting as the system
        obj = spec.model._base_manager.filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj
    return company_get_for_user(user, pk) if spec is COMPANY else contact_get_for_user(user, pk)


def may_merge(actor, owners: list[tuple[int | None, int | None, str]]) -> str:
    """Why the actor may not merge customers with these (owner_id, team_id, name); "" when allowed.

    Administrators and managers may merge every customer they can see. A sales rep may merge
    only customers owned by themselves or by their own team: merging moves the whole history of
    a customer, and a rep should not fold a colleague's customer of another team into theirs."""
    from tradecrm.accounts.access import has_action, read_only_message, visibility_scope

    if actor is None or actor.is_admin:
        return ""
    if getattr(actor, "is_read_only", False):
        return read_only_message()
    if not has_action(actor, "merge"):
        return _("Your role may not merge duplicates.")
    if visibility_scope(actor) in ("team_subteams", "all"):  # by the role's scope, not its name
        return ""
    for owner_id, team_id, name in owners:
        if owner_id == actor.id or (actor.team_id and team_id == actor.team_id):
            continue
        return _(
            "“%(name)s” is not owned by you or your team: a sales rep may merge only their own or their "
            "team's customers. Ask a manager to merge it."
        ) % {"name": name}
    return ""


def _owners(spec: _Spec, objs: list) -> list[tuple[int | None, int | None, str]]:
    if spec is COMPANY:
        return [(o.owner_id, o.team_id, o.name) for o in objs]
    companies = {c.pk: c for c in Company.objects.filter(pk__in={o.company_id for o in objs})}
    return [(companies[o.company_id].owner_id, companies[o.company_id].team_id, companies[o.company_id].name)
            for o in objs]  # fmt: skip


def _load_for_merge(spec: _Spec, actor, order: list[int]) -> dict[int, models.Model]:
    for pk in order:
        _visible(spec, actor, pk)
    locked = spec.model._base_manager.select_for_update().filter(pk__in=order)
    objs = {o.pk: o for o in locked}
    if len(objs) != len(order):
        raise Http404
    why = may_merge(actor, _owners(spec, [objs[pk] for pk in order]))
    if why:
        raise PermissionDenied(why)
    if spec is CONTACT:
        company_id = objs[order[0]].company_id
        for pk in order[1:]:
            if objs[pk].company_id != company_id:
                other = Company.objects.filter(pk=objs[pk].company_id).values_list("name", flat=True).first()
                raise ValidationError({"merge": [_(
                    "%(contact)s belongs to another customer (%(company)s). Only contacts of one customer "
                    "can be merged: merge the customers first."
                ) % {"contact": objs[pk], "company": other}]})  # fmt: skip
    return objs


def _check_versions(objs: dict, versions: dict | None) -> None:
    from tradecrm.core.ids import parse_id

    for raw_pk, raw_version in (versions or {}).items():
        obj = objs.get(parse_id(raw_pk))
        version = parse_id(raw_version)
        if obj is None or version is None:
            raise ValidationError(
                {"versions": [_("“%(id)s: %(version)s” does not name one of the records and its version.")
                              % {"id": raw_pk, "version": raw_version}]}
            )  # fmt: skip
        if version != obj.version:
            raise ConcurrentEditError(
                by=str(obj.updated_by or "?"), at=obj.updated_at, current_version=obj.version
            )


# --- values -------------------------------------------------------------------------------------


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def default_choices(spec: _Spec, objs: dict, order: list[int]) -> dict[str, int]:
    """Per field, the record whose value survives by default: the kept one when it has a value,
    else the first record that has one."""
    out = {}
    for f in spec.choosable():
        out[f.name] = next((pk for pk in order if not _empty(getattr(objs[pk], f.attname))), order[0])
    return out


def _union(values: list[list], *, fold=False) -> list:
    seen, out = set(), []
    for items in values:
        for v in items or []:
            key = v.lower() if fold and isinstance(v, str) else v
            if key in seen or _empty(v):
                continue
            seen.add(key)
            out.append(v)
    return out


def _resolve(spec: _Spec, objs: dict, order: list[int], chosen: dict) -> tuple[dict, dict]:
    """(attname -> new value for the kept record, field -> record id chosen; 0 = combined)."""
    fields = {f.name: f for f in spec.choosable()}
    resolved = default_choices(spec, objs, order)
    errors: dict[str, list[str]] = {}
    for name, raw in (chosen or {}).items():
        if name not in fields:
            errors[f"chosen.{name}"] = [_("“%(field)s” is not a field that can be chosen.") % {"field": name}]
            continue
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            pk = -1
        if pk == COMBINE and name in spec.combinable:
            resolved[name] = COMBINE
        elif pk in objs:
            resolved[name] = pk
        else:
            errors[f"chosen.{name}"] = [
                _("%(value)s is not one of the records being merged.") % {"value": raw}
            ]
    if errors:
        raise ValidationError(errors)
    values: dict = {}
    for name, pk in resolved.items():
        f = fields[name]
        if pk == COMBINE:
            texts = []
            for i in order:
                text = (getattr(objs[i], f.attname) or "").strip()
                if text and text not in texts:
                    texts.append(text)
            values[f.attname] = "\n\n".join(texts)
        else:
            values[f.attname] = getattr(objs[pk], f.attname)
    if not (values.get("name") or "").strip() and spec is COMPANY:
        raise ValidationError({"chosen.name": [_("The kept company needs a name.")]})
    if spec is COMPANY:
        owner_from = objs[resolved["owner"]]
        values["team_id"] = owner_from.team_id  # the team goes with the owner
        values["phones"] = _union([o.phones for o in _ordered(objs, order)])
        values["email_domains"] = _union([o.email_domains for o in _ordered(objs, order)], fold=True)
        values["hs_codes"] = _union([o.hs_codes for o in _ordered(objs, order)])
        reviewed = [o.reviewed_at for o in objs.values() if o.reviewed_at]
        values["reviewed_at"] = max(reviewed) if reviewed else None
    else:
        primary = values.pop("email", "") or ""
        emails = _union([[primary], *[o.emails for o in _ordered(objs, order)]], fold=True)
        values["emails"] = emails
        values["email"] = emails[0] if emails else ""
        values["phones"] = _union([o.phones for o in _ordered(objs, order)])
        values["is_primary"] = any(o.is_primary for o in objs.values())
    return values, resolved


def _ordered(objs: dict, order: list[int]) -> list:
    return [objs[pk] for pk in order]


def _snapshot(spec: _Spec, obj) -> dict:
    snap = _row(obj)
    snap["_label"] = str(obj)
    m2m = {}
    for f in spec.model._meta.many_to_many:
        through = f.remote_field.through
        own = next(
            x for x in through._meta.concrete_fields if x.is_relation and x.related_model is spec.model
        )
        other = next(x for x in through._meta.concrete_fields if x.is_relation and x is not own)
        m2m[f.name] = sorted(
            through._base_manager.filter(**{own.attname: obj.pk}).values_list(other.attname, flat=True)
        )
    snap["_m2m"] = m2m
    return snap


# --- merge --------------------------------------------------------------------------------------


def company_merge(*, actor, keep_id: int, merge_ids: list[int], chosen: dict[str, int] | None = None,
                  versions: dict | None = None) -> MergeRecord:  # fmt: skip
    """Merge companies `merge_ids` into `keep_id`. `chosen`: {field: id of the record whose value
    survives} (0 combines the texts of notes / main products); `versions`: {id: version the user
    saw}, refused with ConcurrentEditError when one changed since."""
    return _merge(
        COMPANY, actor=actor, keep_id=keep_id, merge_ids=merge_ids, chosen=chosen, versions=versions
    )


def contact_merge(*, actor, keep_id: int, merge_ids: list[int], chosen: dict[str, int] | None = None,
                  versions: dict | None = None) -> MergeRecord:  # fmt: skip
    """Merge contacts of one customer into `keep_id` (see company_merge)."""
    return _merge(
        CONTACT, actor=actor, keep_id=keep_id, merge_ids=merge_ids, chosen=chosen, versions=versions
    )


@transaction.atomic
def _merge(spec: _Spec, *, actor, keep_id, merge_ids, chosen, versions) -> MergeRecord:
    from tradecrm.dedup.keys import refresh_company_keys, refresh_contact_keys

    order = _check_ids(keep_id, merge_ids)
    keep, others = order[0], order[1:]
    objs = _load_for_merge(spec, actor, order)
    _check_versions(objs, versions)
    values, resolved = _resolve(spec, objs, order, chosen or {})
    before = {str(pk): _snapshot(spec, objs[pk]) for pk in order}
    moved: dict = {}
    removed: dict = {}
    changed: list = []

    for fk in relations(spec.model):
        _move_relation(fk, keep, others, moved, removed, changed)

    now = timezone.now()
    by = getattr(actor, "pk", None)
    if spec is COMPANY:
        moved_contacts = {pk for ids in moved.get("customers.contact.company_id", {}).values() for pk in ids}
        _after_company_move(keep, others, moved_contacts, changed)
        spec.model._base_manager.filter(pk=keep).update(**values, version=F("version") + 1, updated_at=now,
                                                         updated_by_id=by)  # fmt: skip
        _refresh_company_derived(keep)
        refresh_contact_keys(sorted(moved_contacts))
        refresh_company_keys([keep])
    else:
        company_id = objs[keep].company_id
        company_before = Company.objects.filter(pk=company_id).values_list("search_text", flat=True).first()
        spec.model._base_manager.filter(pk=keep).update(**values, version=F("version") + 1, updated_at=now,
                                                         updated_by_id=by)  # fmt: skip
        _refresh_contact_search(keep)

    _delete_keeping_rows(spec.model, others, removed, changed)

    if spec is CONTACT:
        from tradecrm.customers.services import _refresh_company_search

        if values["is_primary"]:
            Contact.objects.filter(company_id=company_id, is_primary=True).exclude(pk=keep).update(
                is_primary=False
            )
        _refresh_company_search(company_id)
        company_after = Company.objects.filter(pk=company_id).values_list("search_text", flat=True).first()
        if company_after != company_before:
            _change(
                changed, Company, company_id, {"search_text": company_before}, {"search_text": company_after}
            )
        refresh_contact_keys([keep])
        refresh_company_keys([company_id])

    _mark_pairs(spec.entity, others, actor, changed)
    regroup(spec.entity, [keep, *others])  # the review page's stored groups, now without the merged ids
    kept_after = spec.model._base_manager.get(pk=keep)
    before["_after"] = _row(kept_after)
    moved["_changed"] = changed
    record = MergeRecord.objects.create(
        entity=spec.entity, kept_id=keep, merged_ids=others, chosen=resolved, before=before, moved=moved,
        removed=removed, actor_id=by,
    )  # fmt: skip
    object_type = _label(spec.model)
    audit_record(
        actor=actor, action=f"{spec.entity}.merge", object_type=object_type, object_id=keep,
        changes={"merge_id": record.pk, "merged": others, "names": [before[str(pk)]["_label"] for pk in others],
                 "moved": {k: sum(len(v) for v in ids.values()) for k, ids in moved.items() if k != "_changed"},
                 "removed": {k: len(v) for k, v in removed.items()}},
    )  # fmt: skip
    for pk in others:
        audit_record(actor=actor, action=f"{spec.entity}.merged_into", object_type=object_type, object_id=pk,
                     changes={"merge_id": record.pk, "into": keep, "name": before[str(pk)]["_label"]})  # fmt: skip
    return record


def _refresh_company_derived(company_id: int) -> None:
    """search_text, last contact and next follow-up of a customer, from what it now has."""
    from tradecrm.customers.services import company_search_text
    from tradecrm.followups.services import sync_next_followup
    from tradecrm.interactions.services import company_refresh_last_contact

    company = Company.objects.get(pk=company_id)
    Company.objects.filter(pk=company_id).update(search_text=company_search_text(company))
    company_refresh_last_contact(company_id)
    sync_next_followup(company_id)


def _refresh_contact_search(contact_id: int) -> None:
    from tradecrm.customers.services import contact_search_text

    contact = Contact.objects.get(pk=contact_id)
    Contact.objects.filter(pk=contact_id).update(search_text=contact_search_text(contact))


# --- undo ---------------------------------------------------------------------------------------


def _later_merge(record: MergeRecord, pk: int) -> MergeRecord | None:
    for later in MergeRecord.objects.filter(entity=record.entity, undone_at__isnull=True, pk__gt=record.pk):
        if pk in later.merged_ids:
            return later
    return None


def _fk_problems(
    model: type[models.Model], values: dict, pending: set, cache: dict
) -> tuple[dict, list[str]]:
    """The row with every foreign key checked: a missing target of a nullable key becomes NULL,
    a missing target of a required one is reported (the row cannot come back)."""
    values = dict(values)
    missing = []
    for f in model._meta.concrete_fields:
        if not f.is_relation or values.get(f.attname) is None:
            continue
        target = f.related_model
        key = (_label(target), values[f.attname])
        if key in pending:
            continue
        if key not in cache:
            cache[key] = target._base_manager.filter(pk=values[f.attname]).exists()
        if not cache[key]:
            if f.null:
                values[f.attname] = None
            else:
                missing.append(f.name)
    return values, missing


def _insert(model: type[models.Model], values: dict) -> None:
    obj = model(**{f.attname: f.to_python(values[f.attname]) for f in model._meta.concrete_fields
                   if f.attname in values})  # fmt: skip
    # raw: exact values, auto_now/auto_now_add left alone (as fixtures are loaded)
    obj.save_base(raw=True, force_insert=True)


@transaction.atomic
def merge_undo(*, actor, record: MergeRecord) -> dict:
    """Undo a merge: the merged records come back with their ids, every moved row that is still on
    the kept record goes back, the kept record's fields return to what they were (those changed
    by someone since the merge keep the newer value). Returns what happened:
    {"restored", "moved_back", "gone", "skipped", "fields_kept"}."""
    from tradecrm.dedup.keys import refresh_company_keys, refresh_contact_keys

    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    spec = SPECS[record.entity]
    if record.undone_at is not None:
        raise ValidationError(_("This merge was undone already."))
    kept = spec.model._base_manager.filter(pk=record.kept_id).first()
    if kept is None:
        later = _later_merge(record, record.kept_id)
        if later is not None:
            raise ValidationError(
                _(
                    "The kept record was merged into another one afterwards (merge #%(id)s): undo that merge first."
                )
                % {"id": later.pk}
            )
        raise ValidationError(_("The kept record has been deleted since; this merge cannot be undone."))
    if actor is not None:
        _visible(spec, actor, kept.pk)
        snaps = [record.before[str(pk)] for pk in record.merged_ids if str(pk) in record.before]
        if spec is COMPANY:
            owners = [(kept.owner_id, kept.team_id, kept.name)]
            owners += [(s.get("owner_id"), s.get("team_id"), s.get("_label", "")) for s in snaps]
        else:
            owners = _owners(spec, [kept])
        why = may_merge(actor, owners)
        if why:
            raise PermissionDenied(why)
    if spec.model._base_manager.filter(pk__in=record.merged_ids).exists():
        raise ValidationError(_("A merged record exists again; this merge cannot be undone."))

    removed: dict = record.removed or {}
    pending = {
        (label, row[_model(label)._meta.pk.attname]) for label, rows in removed.items() for row in rows
    }
    cache: dict = {}
    main = _label(spec.model)
    # The merged records themselves must come back whole, or the undo is refused.
    for row in removed.get(main, []):
        _values, missing = _fk_problems(spec.model, row, pending, cache)
        if missing:
            name = record.before.get(str(row["id"]), {}).get("_label", row["id"])
            raise ValidationError(
                _(
                    "“%(name)s” cannot come back: its %(fields)s no longer exists. Undo the later change first."
                )
                % {"name": name, "fields": ", ".join(missing)}
            )

    result = {"restored": 0, "moved_back": 0, "gone": 0, "skipped": [], "fields_kept": []}
    for label in sorted(removed, key=lambda lb: lb != main):  # the records first, for readability
        model = _model(label)
        for row in removed[label]:
            values, missing = _fk_problems(model, row, pending, cache)
            if missing:
                result["skipped"].append(
                    {"model": label, "id": row.get("id"), "reason": "missing " + ", ".join(missing)}
                )
                continue
            try:
                with transaction.atomic():
                    _insert(model, values)
            except IntegrityError as exc:
                result["skipped"].append({"model": label, "id": row.get("id"), "reason": str(exc)[:200]})
                continue
            result["restored"] += 1

    moved = record.moved or {}
    for key, by_old in moved.items():
        if key == "_changed":
            continue
        label, att = key.rsplit(".", 1)
        model = _model(label)
        for old, pks in by_old.items():
            for i in range(0, len(pks), _BATCH):
                batch = pks[i : i + _BATCH]
                n = model._base_manager.filter(pk__in=batch, **{att: record.kept_id}).update(
                    **{att: int(old)}
                )
                result["moved_back"] += n
                result["gone"] += len(batch) - n

    for ch in moved.get("_changed", []):
        model = _model(ch["model"])
        current = model._base_manager.filter(pk=ch["id"]).values(*ch["values"].keys()).first()
        if current is None:
            continue
        if any(_dump(current[k]) != v for k, v in ch["after"].items()):
            continue  # changed again since the merge: the newer value stays
        model._base_manager.filter(pk=ch["id"]).update(
            **{k: _field(model, k).to_python(v) for k, v in ch["values"].items()}
        )

    _restore_kept(spec, actor, record, kept, result)

    if spec is COMPANY:
        back = [pk for by_old in moved.get("customers.contact.company_id", {}).values() for pk in by_old]
        if result["fields_kept"] or result["skipped"] or result["gone"]:
            _refresh_company_derived(kept.pk)
        refresh_company_keys([kept.pk, *record.merged_ids])
        refresh_contact_keys(back)
    else:
        refresh_contact_keys([kept.pk, *record.merged_ids])
        refresh_company_keys([kept.company_id])
    regroup(spec.entity, [kept.pk, *record.merged_ids])

    now = timezone.now()
    MergeRecord.objects.filter(pk=record.pk).update(undone_at=now, undone_by_id=getattr(actor, "pk", None),
                                                     version=F("version") + 1, updated_at=now)  # fmt: skip
    record.refresh_from_db()
    object_type = _label(spec.model)
    audit_record(actor=actor, action=f"{spec.entity}.merge_undo", object_type=object_type, object_id=kept.pk,
                 changes={"merge_id": record.pk, "restored": record.merged_ids,
                          "fields_kept": result["fields_kept"], "skipped": len(result["skipped"])})  # fmt: skip
    for pk in record.merged_ids:
        audit_record(actor=actor, action=f"{spec.entity}.unmerged", object_type=object_type, object_id=pk,
                     changes={"merge_id": record.pk, "from": kept.pk})  # fmt: skip
    return result


def _restore_kept(spec: _Spec, actor, record: MergeRecord, kept, result: dict) -> None:
    before = record.before.get(str(kept.pk), {})
    after = record.before.get("_after", {})
    current = _row(kept)
    updates = {}
    for f in spec.model._meta.concrete_fields:
        att = f.attname
        if att in _NOT_RESTORED or att not in before or att not in after:
            continue
        if before[att] == after[att]:
            continue
        if current.get(att) != after[att]:
            result["fields_kept"].append(f.name)
            continue
        updates[att] = f.to_python(before[att])
    spec.model._base_manager.filter(pk=kept.pk).update(
        **updates,
        version=F("version") + 1,
        updated_at=timezone.now(),
        updated_by_id=getattr(actor, "pk", None),
    )


# --- reads --------------------------------------------------------------------------------------


def _display(f: models.Field, value, lang: str) -> str:
    from tradecrm.core import geo
    from tradecrm.core.phones import display_phone

    if _empty(value):
        return ""
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if f.name == "country":
        return geo.country_name(value, lang) or value
    if f.name in ("phones", "whatsapp"):
        items = value if isinstance(value, list) else [value]
        return ", ".join(display_phone(p) if str(p).startswith("+") else str(p) for p in items)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _user_names(ids) -> dict[int, str]:
    from tradecrm.accounts.models import User

    return {u.pk: str(u) for u in User.objects.filter(pk__in=[i for i in ids if i])}


def _mask_preview(user, fields: list[dict], union: list[dict]) -> None:
    """Phones and emails as the viewer's role may see them (masked unless it may "reveal"). The
    choice posted is a record id, never the value, so masking changes nothing of the merge."""
    from tradecrm.accounts.access import can_reveal
    from tradecrm.customers.masking import MASKED_KEYS, mask_value

    if can_reveal(user):
        return

    def masked(name: str, value):
        items = [v for v in (value if isinstance(value, list | tuple) else [value]) if v]
        return [mask_value(name, str(v)) for v in items]

    for f in fields:
        if f["name"] in MASKED_KEYS:
            for v in f["values"]:
                shown = masked(f["name"], v["value"])
                v["display"] = ", ".join(shown)
                v["value"] = (
                    shown if isinstance(v["value"], list | tuple) else (shown[0] if shown else v["value"])
                )
    for u in union:
        if u["name"] in MASKED_KEYS:
            u["value"] = masked(u["name"], u["value"])
            u["display"] = ", ".join(u["value"])


def merge_preview(user, *, entity: str, ids: list[int], keep: int | None = None) -> dict:
    """The records side by side for the merge screen and the API: each choosable field with every
    record's value and the default choice, the unioned list fields, and how many related rows
    each record has. Every id must be visible to the user (else Http404)."""
    from django.utils.translation import get_language

    spec = SPECS[ENTITY_NAMES.get(entity, "")] if entity in ENTITY_NAMES else None
    if spec is None:
        raise ValidationError({"entity": [_("Choose “companies” or “contacts”.")]})
    from tradecrm.core.ids import parse_id

    order: list[int] = []
    for raw in ids:
        pk = parse_id(raw)
        if pk is None:
            raise Http404
        if pk not in order:
            order.append(pk)
    objs = {}
    for pk in order:
        objs[pk] = _visible(spec, user, pk)
    counts = related_counts(spec.model, order)
    if keep in objs:
        order.remove(keep)
        order.insert(0, keep)
    elif len(order) > 1:
        # default: the record with the most history (ties: the oldest)
        totals = {pk: sum(r["counts"].get(pk, 0) for r in counts) for pk in order}
        best = min(order, key=lambda pk: (-totals[pk], pk))
        order.remove(best)
        order.insert(0, best)
    lang = get_language() or "en"
    owners = _owners(spec, [objs[pk] for pk in order]) if order else []
    owner_names = _user_names([o[0] for o in owners])
    records = []
    for pk, (owner_id, _team, _name) in zip(order, owners, strict=True):
        obj = objs[pk]
        records.append({
            "id": pk, "label": str(obj), "version": obj.version, "owner": owner_names.get(owner_id),
            "created_at": obj.created_at, "updated_at": obj.updated_at,
            "company_id": getattr(obj, "company_id", None),
        })  # fmt: skip
    defaults = default_choices(spec, objs, order) if order else {}
    fields = []
    for f in spec.choosable():
        vals = []
        for pk in order:
            raw = getattr(objs[pk], f.attname)
            shown = owner_names.get(raw, "") if f.name == "owner" else _display(f, raw, lang)
            if f.name == "owner" and raw and not shown:
                shown = str(getattr(objs[pk], "owner", "") or "")
            vals.append({"id": pk, "value": _dump(raw), "display": shown})
        distinct = {v["display"] for v in vals}
        fields.append({
            "name": f.name, "label": str(capfirst(f.verbose_name)), "values": vals, "default": defaults.get(f.name),
            "differs": len(distinct) > 1, "combinable": f.name in spec.combinable
            and len({v["display"] for v in vals if v["display"]}) > 1,
        })  # fmt: skip
    union = []
    for name in spec.union:
        f = spec.model._meta.get_field(name)
        merged = _union([getattr(objs[pk], name) for pk in order], fold=name in ("emails", "email_domains"))
        union.append({"name": name, "label": str(capfirst(f.verbose_name)), "value": merged,
                      "display": _display(f, merged, lang)})  # fmt: skip
    _mask_preview(user, fields, union)
    why = may_merge(user, owners) if len(order) > 1 else ""
    warnings = []
    if spec is CONTACT and len({o.company_id for o in objs.values()}) > 1:
        warnings.append(_("These contacts belong to different customers: merge the customers first."))
    return {
        "entity": "companies" if spec is COMPANY else "contacts",
        "keep": order[0] if order else None,
        "records": records,
        "fields": fields,
        "union": union,
        "related": [
            {"key": r["key"], "label": r["label"], "counts": {pk: r["counts"].get(pk, 0) for pk in order}}
            for r in counts
        ],  # fmt: skip
        "can_merge": not why and not warnings and len(order) > 1,
        "reason": why or (warnings[0] if warnings else ""),
        "warnings": warnings,
    }


def merges_for_user(user):
    """Merges the user may look at: their own, and those whose kept record they can see."""
    from django.db.models import Q

    from tradecrm.accounts.access import company_visibility_q

    qs = MergeRecord.objects.all()
    if user.is_admin:
        return qs
    q = company_visibility_q(user)
    visible = Company.objects.filter(q) if q is not None else Company.objects.all()
    return qs.filter(
        Q(actor_id=user.id)
        | Q(entity="company", kept_id__in=visible.values("id"))
        | Q(
            entity="contact",
            kept_id__in=Contact.objects.filter(company__in=visible.values("id")).values("id"),
        )
    )


def merge_get_for_user(user, merge_id) -> MergeRecord:
    from tradecrm.core.ids import parse_id

    pk = parse_id(merge_id)
    if pk is None:
        raise Http404
    record = merges_for_user(user).select_related("actor", "undone_by").filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


def merge_summary(record: MergeRecord) -> dict:
    """What a merge did, for the history pages, the API and the console."""
    spec = SPECS[record.entity]
    kept_exists = spec.model._base_manager.filter(pk=record.kept_id).exists()
    before = record.before or {}
    kept_label = before.get(str(record.kept_id), {}).get("_label", str(record.kept_id))
    if kept_exists:
        kept_label = str(spec.model._base_manager.get(pk=record.kept_id))
    moved = [
        {
            "key": k,
            "label": relation_label(k.rsplit(".", 1)[0]),
            "count": sum(len(v) for v in by_old.values()),
        }
        for k, by_old in (record.moved or {}).items()
        if k != "_changed"
    ]
    removed = [{"key": k, "label": relation_label(k), "count": len(v)} for k, v in (record.removed or {}).items()
               if k != _label(spec.model)]  # fmt: skip
    chosen = []
    fields = {f.name: f for f in spec.choosable()}
    for name, pk in (record.chosen or {}).items():
        if name in fields and pk != record.kept_id:
            source = _("combined") if pk == COMBINE else before.get(str(pk), {}).get("_label", str(pk))
            chosen.append({"field": name, "label": str(capfirst(fields[name].verbose_name)), "source": pk,
                           "source_label": source})  # fmt: skip
    return {
        "id": record.pk,
        "entity": "companies" if spec is COMPANY else "contacts",
        "kept": {"id": record.kept_id, "label": kept_label, "exists": kept_exists},
        "merged": [
            {"id": pk, "label": before.get(str(pk), {}).get("_label", str(pk))} for pk in record.merged_ids
        ],
        "chosen": chosen,
        "moved": moved,
        "removed": removed,
        "actor": record.actor,
        "created_at": record.created_at,
        "undone_at": record.undone_at,
        "undone_by": record.undone_by,
        "version": record.version,
    }
