"""Campaign launch benchmark (issue 8): render + queue of one campaign to N contacts, SQLite.

    nice -n 5 .venv/bin/python bench/campaign.py [--contacts 100000] [--runs 3] [--send 500] [--save]

Builds (once, cached under var/bench/campaign/) a migrated SQLite database with N companies, one
contact with an address each (raw inserts), half of them Chinese-speaking; a segment of all of
them; one campaign in English and Chinese with an A/B subject test. Each run resets the campaign
to a draft and launches it: mails/s = queued / launch seconds (median of the runs). Then one
send_due batch of `--send` mails goes to an aiosmtpd server on 127.0.0.1 (mails/s of that batch).
Prints JSON; --save writes bench/results/campaign.json."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

WORK = common.BENCH_DIR / "campaign"


def log(msg: str) -> None:
    print(f"[campaign {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def setup(contacts: int) -> bool:
    """Point Django at the cached database for `contacts`; True when it must be filled."""
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"campaign-{common.size_label(contacts)}.sqlite3"
    os.environ.update(TRADECRM_DATA_DIR=str(WORK / "data"), TRADECRM_LOG_LEVEL="ERROR", DATABASE_URL="",
                      TRADECRM_SQLITE_PATH=str(db))  # fmt: skip
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(common.ROOT))
    fresh = not db.exists()
    schema = WORK / "schema.sqlite3"
    if fresh and schema.exists():
        shutil.copy(schema, db)  # the migrated empty schema, cached
    import django

    django.setup()
    from django.core.management import call_command

    if fresh:
        log("migrating a new database")
    call_command("migrate", verbosity=0)
    if fresh and not schema.exists():
        from django.db import connection

        connection.close()
        shutil.copy(db, schema)
    return fresh


def raw_insert(model, rows: list[dict]) -> None:
    """executemany of whole rows: every concrete column, defaults through the field's conversion."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    const = {}
    for f in fields:
        v = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        const[f.attname] = f.get_db_prep_save(v, connection) if v is not None else None
    q = connection.ops.quote_name
    sql = (f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")  # fmt: skip
    names = [f.attname for f in fields]
    with transaction.atomic(), connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            cur.executemany(sql, [[r.get(n, const[n]) for n in names] for r in rows[i : i + 5000]])


def build(n: int) -> None:
    from tradecrm.accounts.models import Team, User
    from tradecrm.customers.models import Company, Contact, SavedSegment
    from tradecrm.mailbox.models import Mailbox

    team = Team.objects.create(name="Bench East")
    rep = User.objects.create(username="bench.rep", role="sales", team=team, first_name="Lin", last_name="Wei",
                              email="lin@bench.test")  # fmt: skip
    zones = [("US", "America/Chicago", "en"), ("CN", "Asia/Shanghai", "zh"), ("DE", "Europe/Berlin", "de"),
             ("BR", "America/Sao_Paulo", "pt"), ("AE", "Asia/Dubai", "en"), ("GB", "Europe/London", "en")]  # fmt: skip
    log(f"inserting {n} companies and contacts")
    raw_insert(Company, [{"name": f"Buyer {i} Trading Co", "country": zones[i % 6][0], "timezone": zones[i % 6][1],
                          "preferred_language": zones[i % 6][2], "owner_id": rep.pk, "team_id": team.pk,
                          "city": "City"} for i in range(n)])  # fmt: skip
    ids = list(Company.objects.order_by("id").values_list("id", flat=True))
    raw_insert(Contact, [{"company_id": cid, "first_name": f"Buyer{i}", "last_name": "Smith",
                          "email": f"buyer{i}@buyer{i}-imports.test", "emails": json.dumps([f"buyer{i}@buyer{i}-imports.test"]),
                          "is_primary": True, "preferred_language": "zh" if i % 2 else ""}
                         for i, cid in enumerate(ids)])  # fmt: skip
    SavedSegment.objects.create(name="All buyers", owner=rep, filters={})
    Mailbox.objects.create(user=rep, email="lin@bench.test", imap_host="127.0.0.1", smtp_host="127.0.0.1",
                           smtp_port=1, smtp_security="none", username="bench", password="bench",
                           sync_enabled=False)  # fmt: skip


def campaign():
    from tradecrm.accounts.models import User
    from tradecrm.campaigns.models import Campaign
    from tradecrm.campaigns.services import campaign_create
    from tradecrm.customers.models import SavedSegment
    from tradecrm.mailbox.models import Mailbox

    c = Campaign.objects.filter(name="Bench campaign").first()
    if c:
        return c
    rep = User.objects.get(username="bench.rep")
    return campaign_create(actor=rep, data={
        "name": "Bench campaign", "segment": SavedSegment.objects.get(owner=rep).pk,
        "mailboxes": [Mailbox.objects.get(user=rep).pk], "split_b": 50, "fallback_language": "en",
        "window_start": 0, "window_end": 24, "skip_weekends": False, "per_hour": 100000, "per_day": 100000,
        "contents": [
            {"language": "en", "subject": "New LED panels for {{ company.name }}",
             "subject_b": "{{ contact.first_name }}, 20% off our LED panels",
             "body": "Dear {{ contact.first_name }} {{ contact.last_name }},\n\nour new LED panels for "
                     "{{ company.name }} in {{ company.country }}: https://example.com/catalog?src=edm\n"
                     "{% if contact.title %}As {{ contact.title }} you may like the price list.{% endif %}\n\n"
                     "Best regards,\n{{ user.name }}\n" + "Product details line. " * 20},
            {"language": "zh", "subject": "{{ company.name }}：LED 面板新品",
             "subject_b": "{{ contact.first_name }}，LED 面板八折",
             "body": "{{ contact.first_name }} 您好，\n\n我们的 LED 面板新品：https://example.com/zh?src=edm\n\n"
                     "{{ user.name }}\n" + "产品说明。" * 40},
        ]})  # fmt: skip


def reset(c) -> None:
    from django.db import transaction

    from tradecrm.campaigns.models import Campaign, CampaignRecipient
    from tradecrm.mailbox.models import MailMessage

    with transaction.atomic():
        MailMessage.objects.filter(
            pk__in=CampaignRecipient.objects.filter(campaign=c).values("message_id")
        ).delete()
        CampaignRecipient.objects.filter(campaign=c).delete()
        Campaign.objects.filter(pk=c.pk).update(status="draft", launched_at=None, finished_at=None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--send", type=int, default=500)
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    if setup(args.contacts):
        build(args.contacts)
    from django.db import connection

    from tradecrm.campaigns.models import Campaign
    from tradecrm.campaigns.queueing import campaign_launch

    c = campaign()
    runs = []
    for i in range(args.runs):
        reset(c)
        c = Campaign.objects.select_related("owner").get(pk=c.pk)
        t0, cpu0 = time.perf_counter(), time.process_time()
        counts = campaign_launch(actor=c.owner, campaign=c)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        # CPU seconds of this process too: on a shared, loaded machine wall time mostly measures the queue
        runs.append({"queued": counts["queued"], "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                     "mails_per_s": round(counts["queued"] / seconds, 1),
                     "mails_per_cpu_s": round(counts["queued"] / cpu, 1), "load_1m": os.getloadavg()[0]})  # fmt: skip
        log(f"run {i + 1}: {runs[-1]}")
    result = {
        "bench": "campaign",
        "database": connection.vendor,
        "contacts": args.contacts,
        "languages": ["en", "zh"],
        "ab_test": True,
        "runs": runs,
        "launch_mails_per_s_median": statistics.median(r["mails_per_s"] for r in runs),
        "launch_seconds_median": statistics.median(r["seconds"] for r in runs),
        "launch_mails_per_cpu_s_median": statistics.median(r["mails_per_cpu_s"] for r in runs),
    }
    if args.send:
        result["send_batch"] = send_batch(c, args.send)
    result["load_average"] = os.getloadavg()
    result["machine"] = common.machine()
    result["at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = json.dumps(result, indent=2)
    print(out)
    if args.save:
        common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (common.RESULTS_DIR / "campaign.json").write_text(out + "\n")


def send_batch(c, n: int) -> dict:
    """One send_due batch of `n` mails to aiosmtpd on 127.0.0.1 (MIME, tracked links, one SMTP
    connection for the batch)."""
    from tradecrm.campaigns.sending import send_due
    from tradecrm.mailbox.models import Mailbox
    from tradecrm.mailbox.testing import SmtpSink

    sink = SmtpSink()
    sink.start()
    try:
        Mailbox.objects.filter(user_id=c.owner_id).update(smtp_port=sink.port, username="", password="")
        t0, cpu0 = time.perf_counter(), time.process_time()
        r = send_due(batch=n)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        sink.stop()
    shutil.rmtree(WORK / "data" / "huey", ignore_errors=True)
    return {
        "sent": r["sent"],
        "received_by_server": len(sink.received),
        "seconds": round(seconds, 2),
        "mails_per_s": round(r["sent"] / seconds, 1) if seconds else None,
        "cpu_seconds": round(cpu, 2),
        "errors": r["errors"][:3],
    }


if __name__ == "__main__":
    main()
