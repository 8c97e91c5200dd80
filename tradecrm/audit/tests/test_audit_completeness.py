"""Audit completeness: every service that changes data writes its AuditEvent, in its own transaction.

Discovery: every public module-level function under tradecrm/ (tests and migrations aside) with a
keyword-only `actor` argument is a service. Each one must be listed exactly once below:

- SCENARIOS: called with valid data; the test asserts an AuditEvent with the expected action on the
  expected object was written by that call, and that the call left no unsealed event behind outside
  its transaction (the service is `@transaction.atomic`, or opens one itself).
- STATIC: services of apps still being built, or whose call needs a worker or a file pipeline; the
  test checks the source instead: the function (or a same-module helper it calls) writes an audit
  record. Move an entry to SCENARIOS when you can.
- NOT_A_CHANGE: functions that take an `actor` but change nothing a user can name (validators,
  the audit writer itself, the event bus), with the reason.

A new public service with an `actor` argument that is in none of the three fails
`test_registry_lists_every_service`: the registry, and so this test, stays complete.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import importlib
from decimal import Decimal as D
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

ROOT = Path(__file__).resolve().parents[2]  # tradecrm/
NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)


# --- discovery ----------------------------------------------------------------------------------


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        if "tests" in rel.parts or "migrations" in rel.parts or "management" in rel.parts:
            continue
        yield ".".join(rel.with_suffix("").parts), path


@functools.cache
def discover() -> dict[str, tuple[Path, ast.FunctionDef]]:
    found = {}
    for module, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if "actor" in [a.arg for a in node.args.kwonlyargs]:
                    found[f"{module}.{node.name}"] = (path, node)
    return found


# --- the world the scenarios act on ---------------------------------------------------------------


class World:
    """Objects made on first use, so each scenario pays only for what it touches."""

    def __init__(self, request):
        self.request = request
        self._cache = {}

    def __getattr__(self, name):
        if name.startswith("_") or name == "request":
            raise AttributeError(name)
        if name not in self._cache:
            try:
                self._cache[name] = self.request.getfixturevalue(name)
            except pytest.FixtureLookupError:
                self._cache[name] = getattr(self, "make_" + name)()
        return self._cache[name]

    # customers
    def make_acme(self):
        from tradecrm.customers.services import company_create

        return company_create(actor=self.alice, data={"name": "Acme Imports LLC", "country": "US",
                                                      "city": "Chicago", "currency": "USD"})  # fmt: skip

    def make_acme2(self):
        from tradecrm.customers.services import company_create

        return company_create(actor=self.alice, data={"name": "Acme Imports", "country": "US", "city": "Chicago"})

    def make_jane(self):
        from tradecrm.customers.services import contact_create

        return contact_create(actor=self.alice, company=self.acme, data={"first_name": "Jane", "last_name": "Doe",
                                                                          "email": "jane@acme.example"})  # fmt: skip

    def make_tag(self):
        from tradecrm.customers.services import tag_create

        return tag_create(actor=self.alice, data={"name": "VIP", "color": "#ff0000"})

    def make_segment(self):
        from tradecrm.customers.segment_services import segment_create

        return segment_create(actor=self.alice, data={"name": "German buyers", "filters": {"country": "DE"}})

    def make_market(self):
        from tradecrm.customers.segment_services import market_create

        return market_create(actor=self.carol, data={"code": "NZ"})

    def make_competitor(self):
        from tradecrm.customers.segment_services import competitor_create

        return competitor_create(actor=self.carol, market=self.market, data={"name": "Rival"})

    # catalog, fx
    def make_lamp(self):
        from tradecrm.catalog.models import Product

        return Product.objects.create(
            sku="LED-T8", name_en="LED tube T8 18W", name_zh="LED灯管", hs_code="8539520000", unit="pcs",
            units_per_carton=24, carton_gross_weight_kg=D("12.5"), carton_net_weight_kg=D("11"),
            carton_cbm=D("0.0625"), purchase_cost_cny=D("11.30"), vat_rate=D("13"), tax_rebate_rate=D("13"),
        )  # fmt: skip

    def make_price_list(self):
        from tradecrm.catalog.services import price_list_create

        return price_list_create(actor=self.admin, data={"name": "FOB 2026", "currency": "USD"})

    def make_rates(self):
        from tradecrm.core.models import ExchangeRate

        day = TODAY - dt.timedelta(days=1)
        ExchangeRate.objects.create(base="EUR", quote="USD", date=day, rate=D("1.0850"), source="ECB")
        return ExchangeRate.objects.create(base="USD", quote="CNY", date=day, rate=D("7.1000"), source="PBOC")

    # documents
    def make_seller(self):
        from tradecrm.documents.models import BankAccount, SellerProfile

        seller = SellerProfile.objects.create(name_en="Ningbo Brightway Lighting Co., Ltd.", name_zh="宁波明途照明",
                                              address_en="88 Jiangnan Road, Ningbo", is_default=True)  # fmt: skip
        BankAccount.objects.create(seller=seller, label="BOC USD", currency="USD", beneficiary=seller.name_en,
                                   bank_name="Bank of China", swift="BKCHCNBJ92A", account_number="3581 0000 1234",
                                   is_default=True)  # fmt: skip
        return seller

    def lines(self):
        return [{"product": self.lamp.pk, "quantity": "1000", "unit_price": "2.00"}]

    def quotation(self):
        from tradecrm.documents.services import quotation_create

        self.seller, self.rates  # noqa: B018
        return quotation_create(actor=self.alice, company=self.acme, lines=self.lines(),
                                data={"incoterm": "FOB", "incoterm_place": "Ningbo"})  # fmt: skip

    def issued_quotation(self):
        from tradecrm.documents.services import quotation_issue

        q = self.quotation()
        return quotation_issue(actor=self.alice, quotation=q, version=q.version)

    def proforma(self):
        from tradecrm.documents.services import proforma_create

        self.seller, self.rates  # noqa: B018
        return proforma_create(actor=self.alice, company=self.acme, lines=self.lines(),
                               data={"incoterm": "FOB", "incoterm_place": "Ningbo"})  # fmt: skip

    def issued_proforma(self):
        from tradecrm.documents.services import proforma_issue

        pi = self.proforma()
        return proforma_issue(actor=self.alice, proforma=pi, version=pi.version)

    def make_order(self):
        from tradecrm.orders.services import order_from_proforma

        return order_from_proforma(actor=self.alice, proforma=self.issued_proforma())

    def make_template(self):
        from tradecrm.documents.print_services import template_create

        return template_create(actor=self.admin, data={"kind": "quotation", "language": "en", "name": "Plain",
                                                                "source": '{% extends "documents/pdf/quotation.html" %}'})

    # sales
    def make_pipeline(self):
        from tradecrm.sales.models import Pipeline

        pipeline = Pipeline.objects.get(is_default=True)
        pipeline.by_key = {s.key: s for s in pipeline.stages.all()}
        return pipeline

    def make_inquiry(self):
        from tradecrm.sales.services import inquiry_create

        return inquiry_create(actor=self.alice, data={
            "channel": "alibaba", "buyer_name": "John Smith", "buyer_company": "Smith Trading GmbH",
            "buyer_email": "john@smith-trading.de", "buyer_country": "DE", "subject": "LED panels",
            "target_currency": "USD",
            "items": [{"description": "LED panel 600x600", "quantity": "1000", "unit": "pcs", "target_price": "6.50"}],
        })  # fmt: skip

    def make_opp(self):
        from tradecrm.sales.services import opportunity_create

        self.pipeline  # noqa: B018
        return opportunity_create(actor=self.alice, data={"name": "LED panels", "amount": "10000", "currency": "USD",
                                                          "company": self.acme.pk})  # fmt: skip

    def make_sample(self):
        from tradecrm.sales.services import sample_create

        return sample_create(actor=self.alice, company=self.acme,
                             data={"items": [{"description": "LED panel", "quantity": "2", "unit": "pcs"}]})  # fmt: skip

    # followups, interactions
    def make_followup(self):
        from tradecrm.followups.services import followup_create

        return followup_create(actor=self.alice, company=self.acme, data={"title": "Call back", "due_at": "2026-03-10T10:00"})

    def make_interaction(self):
        from tradecrm.interactions.services import interaction_create

        return interaction_create(actor=self.alice, company=self.acme, data={
            "type": "call", "occurred_at": "2026-03-03T10:00", "subject": "Prices", "body": "Asked for FOB prices."})

    # pool
    def make_pool(self):
        from tradecrm.pool.models import Pool
        from tradecrm.pool.rules import DEFAULT_RULES

        pool = Pool.objects.create(name="East pool", rules={**DEFAULT_RULES, "no_touch_days": 60, "warn_days": 7})
        pool.teams.set([self.teams["east"]])
        return pool

    def pooled(self):
        from tradecrm.pool.services import pool_release

        self.pool  # noqa: B018
        c = self.acme
        pool_release(actor=self.alice, company=c, reason="No answer for months")
        c.refresh_from_db()
        return c

    # imports
    def import_job(self, actor=None, text="name,country\nHengda Trading,CN\nSmith GmbH,DE\n"):
        from tradecrm.imports import services

        upload = SimpleUploadedFile("leads.csv", text.encode(), content_type="text/csv")
        return services.import_job_create(actor=actor or self.alice, upload=upload, filename="leads.csv",
                                          entity="companies", source="generic")  # fmt: skip

    def finished_import(self):
        from tradecrm.imports import services
        from tradecrm.imports.models import ImportJob

        job = self.import_job()
        services.import_job_start(actor=self.alice, job=job, background=False)
        services.import_job_run(job.pk, use_process=False)
        return ImportJob.objects.get(pk=job.pk)

    def merged(self):
        from tradecrm.dedup import merge

        return merge.company_merge(actor=self.alice, keep_id=self.acme.pk, merge_ids=[self.acme2.pk])


def _v(obj):
    return obj.version


def svc(dotted):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


# Each scenario: (expected action, fn(world) -> the object the event is about (or (type, id)).
S = {}


def scenario(name, action):
    def register(fn):
        S[name] = (action, fn)
        return fn

    return register


C = "tradecrm.customers.services."
scenario(C + "company_create", "company.create")(lambda w: w.acme)
scenario(C + "company_update", "company.update")(
    lambda w: svc(C + "company_update")(actor=w.alice, company=w.acme, version=_v(w.acme), data={"city": "Boston"}))
scenario(C + "company_delete", "company.delete")(
    lambda w: (svc(C + "company_delete")(actor=w.alice, company=w.acme), w.acme)[1])
scenario(C + "contact_create", "contact.create")(lambda w: w.jane)
scenario(C + "contact_update", "contact.update")(
    lambda w: svc(C + "contact_update")(actor=w.alice, contact=w.jane, version=_v(w.jane), data={"title": "Buyer"}))
scenario(C + "contact_delete", "contact.delete")(
    lambda w: (svc(C + "contact_delete")(actor=w.alice, contact=w.jane), w.jane)[1])
scenario(C + "tag_create", "tag.create")(lambda w: w.tag)
scenario(C + "tag_update", "tag.update")(
    lambda w: svc(C + "tag_update")(actor=w.alice, tag=w.tag, version=_v(w.tag), data={"name": "VIP buyer"}))
scenario(C + "tag_delete", "tag.delete")(lambda w: (svc(C + "tag_delete")(actor=w.alice, tag=w.tag), w.tag)[1])

SG = "tradecrm.customers.segment_services."
scenario(SG + "segment_create", "segment.create")(lambda w: w.segment)
scenario(SG + "segment_update", "segment.update")(
    lambda w: svc(SG + "segment_update")(actor=w.alice, segment=w.segment, version=_v(w.segment),
                                         data={"name": "German importers"}))  # fmt: skip
scenario(SG + "segment_delete", "segment.delete")(
    lambda w: (svc(SG + "segment_delete")(actor=w.alice, segment=w.segment), w.segment)[1])
scenario(SG + "market_create", "market.create")(lambda w: w.market)
scenario(SG + "market_update", "market.update")(
    lambda w: svc(SG + "market_update")(actor=w.carol, market=w.market, version=_v(w.market),
                                        data={"notes": "CE marking needed"}))  # fmt: skip
scenario(SG + "market_delete", "market.delete")(
    lambda w: (svc(SG + "market_delete")(actor=w.carol, market=w.market), w.market)[1])
scenario(SG + "competitor_create", "competitor.create")(lambda w: w.competitor)
scenario(SG + "competitor_update", "competitor.update")(
    lambda w: svc(SG + "competitor_update")(actor=w.carol, competitor=w.competitor, version=_v(w.competitor),
                                            data={"name": "Rival Ltd"}))  # fmt: skip
scenario(SG + "competitor_delete", "competitor.delete")(
    lambda w: (svc(SG + "competitor_delete")(actor=w.carol, competitor=w.competitor), w.competitor)[1])

F = "tradecrm.followups.services."
scenario(F + "followup_create", "followup.create")(lambda w: w.followup)
scenario(F + "followup_update", "followup.update")(
    lambda w: svc(F + "followup_update")(actor=w.alice, followup=w.followup, version=_v(w.followup),
                                         data={"title": "Call back about prices"}))  # fmt: skip
scenario(F + "followup_complete", "followup.complete")(
    lambda w: svc(F + "followup_complete")(actor=w.alice, followup=w.followup, version=_v(w.followup)))
scenario(F + "followup_cancel", "followup.cancel")(
    lambda w: svc(F + "followup_cancel")(actor=w.alice, followup=w.followup, version=_v(w.followup)))


def _reopen(w):
    f = svc(F + "followup_cancel")(actor=w.alice, followup=w.followup, version=_v(w.followup))
    return svc(F + "followup_reopen")(actor=w.alice, followup=f, version=f.version)


scenario(F + "followup_reopen", "followup.reopen")(_reopen)
scenario(F + "followup_delete", "followup.delete")(
    lambda w: (svc(F + "followup_delete")(actor=w.alice, followup=w.followup), w.followup)[1])
scenario(F + "company_mark_reviewed", "company.review")(
    lambda w: (svc(F + "company_mark_reviewed")(actor=w.alice, company=w.acme), w.acme)[1])


def _rule(w):
    return svc(F + "rule_create")(actor=w.admin, data={"name": "Quiet buyers", "kind": "cadence", "days": 3})


scenario(F + "rule_create", "reminder_rule.create")(_rule)
scenario(F + "rule_update", "reminder_rule.update")(
    lambda w: (r := _rule(w), svc(F + "rule_update")(actor=w.admin, rule=r, version=r.version, data={"days": 5}))[1])
scenario(F + "rule_delete", "reminder_rule.delete")(
    lambda w: (r := _rule(w), svc(F + "rule_delete")(actor=w.admin, rule=r), r)[2])

I = "tradecrm.interactions.services."  # noqa: E741
scenario(I + "interaction_create", "interaction.create")(lambda w: w.interaction)
scenario(I + "interaction_update", "interaction.update")(
    lambda w: svc(I + "interaction_update")(actor=w.alice, interaction=w.interaction, version=_v(w.interaction),
                                            data={"subject": "FOB prices"}))  # fmt: skip
scenario(I + "interaction_delete", "interaction.delete")(
    lambda w: (svc(I + "interaction_delete")(actor=w.alice, interaction=w.interaction), w.interaction)[1])


def _attachment(w):
    upload = SimpleUploadedFile("notes.txt", b"call notes", content_type="text/plain")
    return svc(I + "attachment_add")(actor=w.alice, interaction=w.interaction, upload=upload)


scenario(I + "attachment_add", "attachment.add")(_attachment)
scenario(I + "attachment_delete", "attachment.delete")(
    lambda w: (a := _attachment(w), svc(I + "attachment_delete")(actor=w.alice, attachment=a), a)[2])

SA = "tradecrm.sales.services."
scenario(SA + "inquiry_create", "inquiry.create")(lambda w: w.inquiry)
scenario(SA + "inquiry_update", "inquiry.update")(
    lambda w: svc(SA + "inquiry_update")(actor=w.alice, inquiry=w.inquiry, version=_v(w.inquiry),
                                         data={"subject": "LED panels 600x600"}))  # fmt: skip
scenario(SA + "inquiry_set_status", "inquiry.update")(
    lambda w: svc(SA + "inquiry_set_status")(actor=w.alice, inquiry=w.inquiry, version=_v(w.inquiry),
                                             status="replied"))  # fmt: skip
scenario(SA + "inquiry_reply", "inquiry.update")(
    lambda w: svc(SA + "inquiry_reply")(actor=w.alice, inquiry=w.inquiry, version=_v(w.inquiry),
                                        log=None))  # fmt: skip
scenario(SA + "inquiry_delete", "inquiry.delete")(
    lambda w: (svc(SA + "inquiry_delete")(actor=w.alice, inquiry=w.inquiry), w.inquiry)[1])
scenario(SA + "inquiry_convert", "inquiry.convert")(
    lambda w: (w.pipeline, svc(SA + "inquiry_convert")(actor=w.alice, inquiry=w.inquiry), w.inquiry)[2])
scenario(SA + "opportunity_create", "opportunity.create")(lambda w: w.opp)
scenario(SA + "opportunity_update", "opportunity.update")(
    lambda w: svc(SA + "opportunity_update")(actor=w.alice, opportunity=w.opp, version=_v(w.opp),
                                             data={"amount": "12000"}))  # fmt: skip
scenario(SA + "opportunity_move_stage", "opportunity.move")(
    lambda w: svc(SA + "opportunity_move_stage")(actor=w.alice, opportunity=w.opp,
                                                 stage=w.pipeline.by_key["quoted"]))  # fmt: skip
scenario(SA + "opportunity_advance", "opportunity.move")(
    lambda w: (svc(SA + "opportunity_advance")(actor=w.alice, opportunity_id=w.opp.pk, keys=("quoted",)), w.opp)[1])
scenario(SA + "opportunity_delete", "opportunity.delete")(
    lambda w: (svc(SA + "opportunity_delete")(actor=w.alice, opportunity=w.opp), w.opp)[1])


def _pipeline(w):
    return svc(SA + "pipeline_create")(actor=w.admin, data={"name": "Projects"})


scenario(SA + "pipeline_create", "pipeline.create")(_pipeline)
scenario(SA + "pipeline_update", "pipeline.update")(
    lambda w: (p := _pipeline(w), svc(SA + "pipeline_update")(actor=w.admin, pipeline=p, version=p.version,
                                                              data={"name": "Big projects"}))[1])  # fmt: skip


def _stage(w):
    return svc(SA + "stage_create")(actor=w.admin, pipeline=w.pipeline, data={"name": "Factory audit", "probability": 60})


scenario(SA + "stage_create", "stage.create")(_stage)
scenario(SA + "stage_update", "stage.update")(
    lambda w: svc(SA + "stage_update")(actor=w.admin, stage=w.pipeline.by_key["quoted"], data={"name": "Offer sent"}))
scenario(SA + "stage_reorder", "pipeline.reorder")(
    lambda w: (svc(SA + "stage_reorder")(actor=w.admin, pipeline=w.pipeline,
                                         stage_ids=list(reversed([s.pk for s in w.pipeline.stages.all()]))),
               w.pipeline)[1])  # fmt: skip
scenario(SA + "stage_move", "pipeline.reorder")(
    lambda w: (svc(SA + "stage_move")(actor=w.admin, stage=w.pipeline.by_key["quoted"], offset=-1), w.pipeline)[1])
scenario(SA + "stage_delete", "stage.delete")(
    lambda w: (s := _stage(w), svc(SA + "stage_delete")(actor=w.admin, stage=s), s)[2])


def _loss_reason(w):
    return svc(SA + "loss_reason_create")(actor=w.admin, name="Price too high elsewhere")


scenario(SA + "loss_reason_create", "loss_reason.create")(_loss_reason)
scenario(SA + "loss_reason_set_active", "loss_reason.update")(
    lambda w: svc(SA + "loss_reason_set_active")(actor=w.admin, reason=_loss_reason(w), active=False))
scenario(SA + "sample_create", "sample.create")(lambda w: w.sample)
scenario(SA + "sample_update", "sample.update")(
    lambda w: svc(SA + "sample_update")(actor=w.alice, sample=w.sample, version=_v(w.sample),
                                        data={"courier": "dhl"}))  # fmt: skip


def _sent(w):
    s = svc(SA + "sample_set_preparing")(actor=w.alice, sample=w.sample, version=_v(w.sample))
    return svc(SA + "sample_mark_sent")(actor=w.alice, sample=s, version=s.version,
                                        data={"courier": "dhl", "tracking_number": "1234567890", "sent_on": "2026-03-03"})  # fmt: skip


def _received(w):
    s = _sent(w)
    return svc(SA + "sample_mark_received")(actor=w.alice, sample=s, version=s.version, data={"received_on": "2026-03-04"})


scenario(SA + "sample_set_preparing", "sample.preparing")(
    lambda w: svc(SA + "sample_set_preparing")(actor=w.alice, sample=w.sample, version=_v(w.sample)))
scenario(SA + "sample_mark_sent", "sample.sent")(_sent)
scenario(SA + "sample_mark_received", "sample.received")(_received)
scenario(SA + "sample_feedback", "sample.feedback")(
    lambda w: (s := _received(w), svc(SA + "sample_feedback")(actor=w.alice, sample=s, version=s.version,
                                                              data={"feedback_rating": 4, "feedback": "Good"}))[1])  # fmt: skip
scenario(SA + "sample_cancel", "sample.cancel")(
    lambda w: svc(SA + "sample_cancel")(actor=w.alice, sample=w.sample, version=_v(w.sample)))
scenario(SA + "sample_delete", "sample.delete")(
    lambda w: (svc(SA + "sample_delete")(actor=w.alice, sample=w.sample), w.sample)[1])

DS = "tradecrm.documents.services."
scenario(DS + "quotation_create", "quotation.create")(lambda w: w.quotation())
scenario(DS + "quotation_update", "quotation.update")(
    lambda w: (q := w.quotation(), svc(DS + "quotation_update")(actor=w.alice, quotation=q, version=q.version,
                                                                data={"incoterm_place": "Shanghai"}))[1])  # fmt: skip
scenario(DS + "quotation_issue", "quotation.issue")(lambda w: w.issued_quotation())


def _submitted(w):
    q = w.quotation()
    return svc(DS + "quotation_submit")(actor=w.alice, quotation=q, version=q.version)


scenario(DS + "quotation_submit", "quotation.submit")(_submitted)
scenario(DS + "quotation_approve", "quotation.approve")(
    lambda w: svc(DS + "quotation_approve")(actor=w.carol, quotation=_submitted(w)))
scenario(DS + "quotation_approval_reject", "quotation.approval_reject")(
    lambda w: svc(DS + "quotation_approval_reject")(actor=w.carol, quotation=_submitted(w), note="Margin too thin"))
scenario(DS + "quotation_accept", "quotation.accept")(
    lambda w: svc(DS + "quotation_accept")(actor=w.alice, quotation=w.issued_quotation()))
scenario(DS + "quotation_reject", "quotation.reject")(
    lambda w: svc(DS + "quotation_reject")(actor=w.alice, quotation=w.issued_quotation(), note="Too dear"))
scenario(DS + "quotation_expire", "quotation.expire")(
    lambda w: svc(DS + "quotation_expire")(actor=w.alice, quotation=w.issued_quotation()))


def _expire_due(w):
    q = w.issued_quotation()
    svc(DS + "quotations_expire_due")(actor=w.alice, today=q.valid_until + dt.timedelta(days=1))
    return q


scenario(DS + "quotations_expire_due", "quotation.expire")(_expire_due)
scenario(DS + "quotation_revise", "quotation.revise")(
    lambda w: svc(DS + "quotation_revise")(actor=w.alice, quotation=w.issued_quotation()))
scenario(DS + "quotation_cancel", "quotation.cancel")(
    lambda w: svc(DS + "quotation_cancel")(actor=w.alice, quotation=w.quotation()))
scenario(DS + "quotation_delete", "quotation.delete")(
    lambda w: (q := w.quotation(), svc(DS + "quotation_delete")(actor=w.alice, quotation=q), q)[2])
scenario(DS + "proforma_create", "proforma.create")(lambda w: w.proforma())
scenario(DS + "proforma_from_quotation", "proforma.create")(
    lambda w: svc(DS + "proforma_from_quotation")(actor=w.alice, quotation=w.issued_quotation()))
scenario(DS + "proforma_update", "proforma.update")(
    lambda w: (p := w.proforma(), svc(DS + "proforma_update")(actor=w.alice, proforma=p, version=p.version,
                                                              data={"incoterm_place": "Shanghai"}))[1])  # fmt: skip
scenario(DS + "proforma_issue", "proforma.issue")(lambda w: w.issued_proforma())
scenario(DS + "proforma_revise", "proforma.revise")(
    lambda w: svc(DS + "proforma_revise")(actor=w.alice, proforma=w.issued_proforma()))
scenario(DS + "proforma_cancel", "proforma.cancel")(
    lambda w: svc(DS + "proforma_cancel")(actor=w.alice, proforma=w.issued_proforma()))
scenario(DS + "proforma_delete", "proforma.delete")(
    lambda w: (p := w.proforma(), svc(DS + "proforma_delete")(actor=w.alice, proforma=p), p)[2])

PS = "tradecrm.documents.print_services."


def _seller(w):
    return svc(PS + "seller_create")(actor=w.admin, data={"name_en": "Brightway Lighting", "name_zh": "明途照明"})


def _account(w):
    return svc(PS + "bank_account_create")(actor=w.admin, seller=_seller(w), data={
        "label": "BOC EUR", "currency": "EUR", "beneficiary": "Brightway Lighting", "bank_name": "Bank of China",
        "swift": "BKCHCNBJ92A", "account_number": "3581 0000 9999"})  # fmt: skip


scenario(PS + "seller_create", "seller.create")(_seller)
scenario(PS + "seller_update", "seller.update")(
    lambda w: (s := _seller(w), svc(PS + "seller_update")(actor=w.admin, seller=s, version=s.version,
                                                          data={"name_en": "Brightway Lighting Ltd."}))[1])  # fmt: skip
scenario(PS + "seller_delete", "seller.delete")(
    lambda w: (s := _seller(w), svc(PS + "seller_delete")(actor=w.admin, seller=s), s)[2])
scenario(PS + "bank_account_create", "bank_account.create")(_account)
scenario(PS + "bank_account_update", "bank_account.update")(
    lambda w: (a := _account(w), svc(PS + "bank_account_update")(actor=w.admin, account=a, version=a.version,
                                                                 data={"label": "BOC EUR 2"}))[1])  # fmt: skip
scenario(PS + "bank_account_delete", "bank_account.delete")(
    lambda w: (a := _account(w), svc(PS + "bank_account_delete")(actor=w.admin, account=a), a)[2])
scenario(PS + "template_create", "document_template.create")(lambda w: w.template)
scenario(PS + "template_update", "document_template.update")(
    lambda w: svc(PS + "template_update")(actor=w.admin, template=w.template, version=_v(w.template),
                                          data={"name": "Plain 2"}))  # fmt: skip
scenario(PS + "template_set_active", "document_template.activate")(  # a new template is inactive
    lambda w: svc(PS + "template_set_active")(actor=w.admin, template=w.template, active=True))
scenario(PS + "template_delete", "document_template.delete")(
    lambda w: (svc(PS + "template_delete")(actor=w.admin, template=w.template), w.template)[1])

O = "tradecrm.orders.services."  # noqa: E741
scenario(O + "order_from_proforma", "order.create")(lambda w: w.order)
scenario(O + "order_create", "order.create")(
    lambda w: svc(O + "order_create")(actor=w.alice, company=w.acme, data={
        "company": w.acme.pk, "currency": "USD", "document_date": "2026-03-04",
        "lines": [{"name": "Gift box printing", "quantity": 1, "unit_price": "150"}]}))
scenario(O + "order_update", "order.update")(
    lambda w: svc(O + "order_update")(actor=w.alice, order=w.order, version=_v(w.order), data={"customer_po": "PO-77"}))
scenario(O + "order_set_status", "order.status")(
    lambda w: svc(O + "order_set_status")(actor=w.alice, order=w.order, status="production"))


def _shipment(w):
    return svc(O + "shipment_create")(actor=w.alice, order=w.order, data={"bl_number": "X1"})


scenario(O + "shipment_create", "shipment.create")(_shipment)
scenario(O + "shipment_update", "shipment.update")(
    lambda w: (s := _shipment(w), svc(O + "shipment_update")(actor=w.alice, shipment=s, version=s.version,
                                                             data={"bl_number": "X2"}))[1])  # fmt: skip
scenario(O + "shipment_delete", "shipment.delete")(
    lambda w: (s := _shipment(w), svc(O + "shipment_delete")(actor=w.alice, shipment=s), s)[2])


def _payment(w):
    return svc(O + "payment_record")(actor=w.alice, order=w.order, amount="100", currency="USD", received_on=TODAY)


scenario(O + "payment_record", "payment.create")(_payment)
scenario(O + "payment_delete", "payment.delete")(
    lambda w: (p := _payment(w), svc(O + "payment_delete")(actor=w.alice, payment=p), p)[2])
scenario(O + "receivable_write_off", "receivable.write_off")(
    lambda w: svc(O + "receivable_write_off")(actor=w.carol, receivable=w.order.receivables.order_by("pk").first(),
                                              note="Bank charges short"))  # fmt: skip

P = "tradecrm.pool.services."
scenario(P + "pool_create", "pool.create")(
    lambda w: svc(P + "pool_create")(actor=w.admin, data={"name": "West pool"}))
scenario(P + "pool_update", "pool.update")(
    lambda w: svc(P + "pool_update")(actor=w.admin, pool=w.pool, version=_v(w.pool), data={"name": "East & Co"}))
scenario(P + "pool_release", "pool.release")(lambda w: w.pooled())
scenario(P + "pool_claim", "pool.claim")(
    lambda w: (c := w.pooled(), svc(P + "pool_claim")(actor=w.bob, company_id=c.pk), c)[2])
scenario(P + "pool_assign", "pool.assign")(
    lambda w: (c := w.pooled(), svc(P + "pool_assign")(actor=w.carol, company_id=c.pk, to_user=w.bob), c)[2])
scenario(P + "pool_lock", "pool.lock")(
    lambda w: (w.pool, svc(P + "pool_lock")(actor=w.carol, company=w.acme, reason="key account"), w.acme)[2])
scenario(P + "pool_unlock", "pool.unlock")(
    lambda w: (w.pool, svc(P + "pool_lock")(actor=w.carol, company=w.acme, reason="key account"),
               svc(P + "pool_unlock")(actor=w.carol, company=w.acme), w.acme)[3])  # fmt: skip


def _recall(w):
    from tradecrm.customers.models import Company

    w.pool  # noqa: B018
    c = Company.objects.create(name="Sleepy Buyer", country="US", owner=w.alice, team=w.teams["east"])
    Company.objects.filter(pk=c.pk).update(created_at=NOW - dt.timedelta(days=200))
    svc(P + "pool_recall_run")(actor=w.admin, trigger="manual")
    return c


scenario(P + "pool_recall_run", "pool.recall")(_recall)

DD = "tradecrm.dedup."
scenario(DD + "merge.company_merge", "company.merge")(lambda w: (w.merged(), w.acme)[1])
scenario(DD + "merge.merge_undo", "company.merge_undo")(
    lambda w: (r := w.merged(), svc(DD + "merge.merge_undo")(actor=w.alice, record=r), w.acme)[2])


def _contact_merge(w):
    from tradecrm.customers.services import contact_create

    jd = contact_create(actor=w.alice, company=w.acme, data={"first_name": "J.", "last_name": "Doe",
                                                             "email": "jane@acme.example"})  # fmt: skip
    svc(DD + "merge.contact_merge")(actor=w.alice, keep_id=w.jane.pk, merge_ids=[jd.pk])
    return w.jane


scenario(DD + "merge.contact_merge", "contact.merge")(_contact_merge)

G = "tradecrm.grading.services."
scenario(G + "config_update", "grading.config_update")(
    lambda w: svc(G + "config_update")(actor=w.admin, data=_grading_config()))


def _grading_config():
    from tradecrm.grading.config import default_config
    from tradecrm.grading.models import GradingConfig

    cfg = GradingConfig.objects.filter(pk=1).first()
    return cfg.data if cfg is not None else default_config()


def _tiers(w):
    from tradecrm.grading.models import Tier

    tiers = [{k: getattr(t, k) for k in ("code", "name", "min_score")} for t in Tier.objects.order_by("-min_score")]
    svc(G + "tiers_update")(actor=w.admin, tiers=tiers)
    return None


scenario(G + "tiers_update", "grading.tiers_update")(_tiers)


def _veto(w):
    return svc(G + "veto_create")(actor=w.admin, data={"name": "Sanctions", "kind": "country", "countries": ["ir"],
                                                       "cap_tier": "D"})  # fmt: skip


scenario(G + "veto_create", "grading.veto_create")(_veto)
scenario(G + "veto_update", "grading.veto_update")(
    lambda w: svc(G + "veto_update")(actor=w.admin, rule=_veto(w), data={"name": "Sanctioned countries"}))
scenario(G + "veto_delete", "grading.veto_delete")(
    lambda w: (v := _veto(w), svc(G + "veto_delete")(actor=w.admin, rule=v), v)[2])


def _override(w):
    return svc(G + "override_set")(actor=w.carol, company=w.acme, tier="A", reason="Strategic distributor",
                                   until=TODAY + dt.timedelta(days=3))  # fmt: skip


scenario(G + "override_set", "grading.override_set")(lambda w: (_override(w), w.acme)[1])
scenario(G + "override_clear", "grading.override_clear")(
    lambda w: (_override(w), svc(G + "override_clear")(actor=w.carol, company=w.acme), w.acme)[2])
scenario(G + "request_run", "grading.run_request")(lambda w: svc(G + "request_run")(actor=w.admin))

IM = "tradecrm.imports.services."
scenario(IM + "import_job_create", "import.upload")(lambda w: w.import_job())
scenario(IM + "import_job_configure", "import.configure")(
    lambda w: (j := w.import_job(), svc(IM + "import_job_configure")(
        actor=w.alice, job=j, version=j.version, mapping={int(k): v for k, v in j.mapping.items()},
        options=j.options))[1])  # fmt: skip
scenario(IM + "import_job_dry_run", "import.check")(
    lambda w: (j := w.import_job(), svc(IM + "import_job_dry_run")(actor=w.alice, job=j), j)[2])
scenario(IM + "import_job_start", "import.start")(
    lambda w: (j := w.import_job(), svc(IM + "import_job_start")(actor=w.alice, job=j, background=False), j)[2])
scenario(IM + "import_undo", "import.undo")(
    lambda w: (j := w.finished_import(), svc(IM + "import_undo")(actor=w.alice, job=j), j)[2])


def _mapping(w):
    return svc(IM + "mapping_template_save")(actor=w.alice, entity="companies", source="trade_show", name="Canton Fair",
                                             mapping_by_header={"name": "name", "country": "country"})  # fmt: skip


scenario(IM + "mapping_template_save", "mapping.create")(_mapping)
scenario(IM + "mapping_template_delete", "mapping.delete")(
    lambda w: (m := _mapping(w), svc(IM + "mapping_template_delete")(actor=w.alice, template=m), m)[2])

CA = "tradecrm.catalog.services."


def _product(w):
    return svc(CA + "product_create")(actor=w.admin, data={"sku": "MUG-350", "name_en": "Ceramic mug 350 ml"})


scenario(CA + "product_create", "product.create")(_product)
scenario(CA + "product_update", "product.update")(
    lambda w: (p := _product(w), svc(CA + "product_update")(actor=w.admin, product=p, version=p.version,
                                                            data={"name_en": "Ceramic mug 350ml"}))[1])  # fmt: skip
scenario(CA + "product_delete", "product.delete")(
    lambda w: (p := _product(w), svc(CA + "product_delete")(actor=w.admin, product=p), p)[2])
scenario(CA + "price_list_create", "price_list.create")(lambda w: w.price_list)
scenario(CA + "price_list_update", "price_list.update")(
    lambda w: svc(CA + "price_list_update")(actor=w.admin, price_list=w.price_list, version=_v(w.price_list),
                                            data={"name": "FOB 2026 H2"}))  # fmt: skip
scenario(CA + "price_list_delete", "price_list.delete")(
    lambda w: (svc(CA + "price_list_delete")(actor=w.admin, price_list=w.price_list), w.price_list)[1])


def _price(w):
    return svc(CA + "price_set")(actor=w.admin, price_list=w.price_list, product=w.lamp, unit_price="2.10")


scenario(CA + "price_set", "price.set")(lambda w: (_price(w), w.price_list)[1])
scenario(CA + "price_remove", "price.remove")(
    lambda w: (i := _price(w), svc(CA + "price_remove")(actor=w.admin, item=i), w.price_list)[2])

FX = "tradecrm.core.fx."


def _rate(w):
    return svc(FX + "rate_set")(actor=w.admin, base="EUR", quote="USD", date=TODAY, rate="1.09")


scenario(FX + "rate_set", "exchange_rate.create")(_rate)
scenario(FX + "rate_update", "exchange_rate.update")(
    lambda w: (r := _rate(w), svc(FX + "rate_update")(actor=w.admin, rate_obj=r, version=r.version,
                                                      data={"rate": "1.10"}))[1])  # fmt: skip
scenario(FX + "rate_delete", "exchange_rate.delete")(
    lambda w: (r := _rate(w), svc(FX + "rate_delete")(actor=w.admin, rate_obj=r), r)[2])

A = "tradecrm.accounts.services."
scenario(A + "team_get_or_create", "team.create")(lambda w: svc(A + "team_get_or_create")(actor=w.admin, name="North"))
scenario(A + "user_create", "user.create")(
    lambda w: svc(A + "user_create")(actor=w.admin, username="erin", password="pw-erin-12345-long", role="sales",
                                     team_name="East", validate=False))  # fmt: skip
scenario(A + "token_create", "token.create")(
    lambda w: svc(A + "token_create")(actor=w.admin, user=w.alice, name="script")[0])
# departments and teams (accounts/teams.py)
T = "tradecrm.accounts.teams."
scenario(T + "team_create", "team.create")(lambda w: svc(T + "team_create")(actor=w.admin, data={"name": "Europe"}))
scenario(T + "team_update", "team.update")(
    lambda w: svc(T + "team_update")(actor=w.admin, team=w.teams["west"], data={"parent": w.teams["sales"].pk}))

SCENARIOS = S

# Checked in the source only (see the module docstring); the reason says why not called here.
STATIC = {
    "tradecrm.analysis.services.cluster_run_start": "starts a background clustering run",
    "tradecrm.analysis.services.rule_run_start": "starts a background association-rule run",
    "tradecrm.analysis.services.winback_followup_create": "needs a computed win-back suggestion",
    "tradecrm.catalog.services.product_photo_add": "needs an image upload",
    "tradecrm.catalog.services.product_photo_delete": "needs an image upload",
    "tradecrm.catalog.spreadsheets.products_import": "spreadsheet pipeline",
    "tradecrm.catalog.spreadsheets.price_list_import": "spreadsheet pipeline",
    "tradecrm.core.fx.rates_import_csv": "CSV pipeline",
    "tradecrm.customs.services.customs_record_link": "needs imported customs records",
    "tradecrm.customs.services.customs_record_unlink": "needs imported customs records",
    "tradecrm.interactions.whatsapp_services.whatsapp_import": "chat-export parser pipeline",
    "tradecrm.reports.report_files.report_export": "file export pipeline",
    "tradecrm.reports.services.export_permission_set": "reports permission",
    "tradecrm.dedup.sweep.pairs_dismiss": "needs the candidate pairs of a duplicate sweep",
    "tradecrm.campaigns.queueing.campaign_launch": "needs a segment, a mailbox and templates",
    "tradecrm.campaigns.services.campaign_create": "needs a segment and a mailbox",
    "tradecrm.campaigns.services.campaign_update": "needs a segment and a mailbox",
    "tradecrm.campaigns.services.campaign_pause": "needs a launched campaign",
    "tradecrm.campaigns.services.campaign_resume": "needs a launched campaign",
    "tradecrm.campaigns.services.campaign_cancel": "needs a launched campaign",
    # added during the session of 2026-11-26 by other helpers: scenarios still to write
    "tradecrm.accounts.services.role_policy_update": "new",
    "tradecrm.accounts.services.user_offboard": "new",
    "tradecrm.accounts.services.user_update": "new",
    "tradecrm.audit.privacy.customer_data_erase": "new",
    "tradecrm.audit.privacy.customer_data_export": "new",
}

NOT_A_CHANGE = {
    "tradecrm.audit.services.audit_record": "the audit writer itself",
    "tradecrm.automation.events.emit": "event bus: the service that emits has already audited the change",
    "tradecrm.automation.events.emit_many": "event bus: the service that emits has already audited the change",
    "tradecrm.automation.events.emit_grading_changes": "event bus: the grading run has audited its changes",
    "tradecrm.catalog.demo.demo_products": "demo data generator (CLI `demo`), not a user action",
    "tradecrm.customers.segment_services.clean_segment": "validator, writes nothing",
    "tradecrm.customers.validation.clean_company": "validator, writes nothing",
    "tradecrm.customers.validation.clean_tag_ids": "validator, writes nothing",
    "tradecrm.documents.validation.clean_header": "validator, writes nothing",
    "tradecrm.followups.validation.clean_followup": "validator, writes nothing",
    "tradecrm.interactions.validation.clean_interaction": "validator, writes nothing",
    "tradecrm.orders.validation.clean_order": "validator, writes nothing",
    "tradecrm.sales.validation.clean_inquiry": "validator, writes nothing",
    "tradecrm.sales.validation.clean_opportunity": "validator, writes nothing",
    "tradecrm.sales.validation.clean_sample": "validator, writes nothing",
    "tradecrm.reports.exports.export_prepare": "prepares an export file; report_export audits the export",
    "tradecrm.grading.engine.run": "the grading computation (derived data); request_run audits who asked",
    "tradecrm.automation.services.clean_rule": "validator, writes nothing",
}

# Services found writing no audit record, in apps still being built by other helpers: reported to
# their owners. The test fails once one of them does write its record: then drop it from here.
KNOWN_MISSING = {
    "tradecrm.integrations.services.card_capture": "creates a company/contact from a business card",
    "tradecrm.mailbox.services.mailbox_sync_now": "queues a mailbox sync",
    "tradecrm.security.services.totp_start": "stores a not yet confirmed TOTP secret",
}


def _static_apps():
    """Apps other helpers are building in this same session: every service of theirs is checked in
    the source (test_static_service_writes_audit_record) without being listed; list them one by
    one, with scenarios, once the apps have landed, and drop them from here."""
    return ("automation", "integrations", "mailbox", "security", "service")


def _registered(name: str) -> bool:
    return name in SCENARIOS or name in STATIC or name in NOT_A_CHANGE or name.split(".")[1] in _static_apps()


def test_registry_lists_every_service():
    found = discover()
    missing = sorted(n for n in found if not _registered(n))
    assert not missing, (
        "New services with an `actor` argument: add a scenario (or a STATIC / NOT_A_CHANGE entry) to "
        f"{Path(__file__).name}: {missing}"
    )
    stale = sorted(n for n in (*SCENARIOS, *STATIC, *NOT_A_CHANGE) if n not in found)
    assert not stale, f"Registry entries for services that no longer exist: {stale}"


def _writes_audit(path: Path, name: str) -> bool:
    return _calls(path, name, "audit_record(", "AuditEvent(")


def _calls(path: Path, name: str, *needles: str) -> bool:
    """Whether the function, or a module-level function of the same module it calls, contains one of
    the needles."""
    src = path.read_text(encoding="utf-8")
    tree = ast.parse(src)
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    seen, stack = set(), [name]
    while stack:
        fn = stack.pop()
        if fn in seen or fn not in funcs:
            continue
        seen.add(fn)
        decorators = "\n".join(ast.unparse(d) for d in funcs[fn].decorator_list)
        body = decorators + "\n" + (ast.get_source_segment(src, funcs[fn]) or "")
        if any(n in body for n in needles):
            return True
        stack += [c.func.id for c in ast.walk(funcs[fn]) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)]
    return False


def _static_names():
    found = discover()
    return sorted(n for n in found if n in STATIC or (n not in SCENARIOS and n not in NOT_A_CHANGE))


@pytest.mark.parametrize("name", _static_names())
def test_static_service_writes_audit_record(name):
    path, _node = discover()[name]
    writes = _writes_audit(path, name.rsplit(".", 1)[1])
    if name in KNOWN_MISSING:
        assert not writes, f"{name} writes its audit record now: remove it from KNOWN_MISSING"
        pytest.xfail(f"known: {name} writes no audit record ({KNOWN_MISSING[name]})")
    assert writes, f"{name} changes data but writes no audit record"


@pytest.fixture
def world(request, db, alice, bob, carol, dave, admin, teams, settings):
    settings.TRADECRM_BASE_CURRENCY = "USD"
    with time_machine.travel(NOW, tick=False):
        yield World(request)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_service_writes_its_audit_event(world, name, django_capture_on_commit_callbacks):
    from django.db import connection

    from tradecrm.audit.models import AuditEvent

    action, run = SCENARIOS[name]
    # The service must be atomic, so that its change and its event commit or fail together.
    func = svc(name)
    path, _node = discover()[name]
    assert hasattr(func, "__wrapped__") or _calls(path, name.rsplit(".", 1)[1], "transaction.atomic"), (
        f"{name} is not @transaction.atomic and opens no transaction of its own"
    )
    # Build what the scenario needs first, then watch only the call under test.
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    depth = len(connection.savepoint_ids)
    with django_capture_on_commit_callbacks(execute=False):
        obj = run(world)
    assert len(connection.savepoint_ids) == depth
    events = list(AuditEvent.objects.filter(pk__gt=before, action=action).values("object_type", "object_id"))
    assert events, f"{name} wrote no '{action}' audit event"
    if obj is not None and hasattr(obj, "_meta"):
        # a deleted instance has lost its pk: then the type must match
        about = [e for e in events if e["object_type"] == obj._meta.label_lower
                 and (obj.pk is None or e["object_id"] == obj.pk)]  # fmt: skip
        assert about, (
            f"{name}: '{action}' events are about {events}, not {obj._meta.label_lower} #{obj.pk}"
        )
