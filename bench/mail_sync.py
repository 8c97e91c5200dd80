"""Mailbox sync benchmark (issue 8), SQLite, prints JSON (and writes bench/results/mail_sync.json
with --save).

    .venv/bin/python bench/mail_sync.py [--messages 50000] [--matched 0.3] [--save]

A real Dovecot (tradecrm.mailbox.testing, needs `make mail-deps`) gets `--messages` messages
written straight into its maildir (INBOX, plus 10 % in Sent): `--matched` of them from or to the
contacts / company domains of 1,000 customers (these are fetched whole, parsed, threaded, stored
with their attachments and put on the timeline), the rest from senders that match no customer
(headers only; remembered as unknown senders). 1 in 50 customer messages carries a 40 KB PDF-like
attachment; 1 in 5 answers an earlier one (In-Reply-To). Then, in this process:
  first      the first sync of the mailbox (messages/s over all messages; target ≥ 200/s),
  memory     peak RSS of the process (resource.getrusage; target ≤ 300 MB), and after the first
             sync its split from /proc: RssAnon (the process's heap) and RssFile (mostly the SQLite
             file mapped by the settings' `PRAGMA mmap_size`: shared, reclaimable page cache),
  incremental the median of 5 syncs with nothing new (target ≤ 1 s).
The maildir is written as a stream (the messages are generated twice, once per folder, from the
same seed), so the peak RSS is the sync's, not the generator's. `phases_s` splits the first sync's
time: imap (round trips), parse (headers, MIME, HTML cleaning), match (addresses, already-stored
check), db (inserts: messages, files, timeline entries, unknown senders).
The database is a migrated SQLite file under var/bench/mail/ (the migrated empty schema is cached).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

WORK = common.BENCH_DIR / "mail"


def log(msg: str) -> None:
    print(f"[mail_sync {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def proc_memory() -> dict:
    """Peak and current resident memory from /proc (Linux): RssFile is mostly the SQLite file
    mapped by `PRAGMA mmap_size` (shared, reclaimable pages), RssAnon the process's own heap."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _sep, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def setup() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    base, db = WORK / "schema.sqlite3", WORK / "mail.sqlite3"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    os.environ.update(TRADECRM_DATA_DIR=str(WORK / "data"), TRADECRM_LOG_LEVEL="ERROR", DATABASE_URL="",
                      TRADECRM_SQLITE_PATH=str(base))  # fmt: skip
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(common.ROOT))
    import django

    if not base.exists():
        log("migrating the empty schema (cached for the next runs)")
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.db import connection

        connection.close()
        shutil.copy(base, db)
    else:
        shutil.copy(base, db)
        os.environ["TRADECRM_SQLITE_PATH"] = str(db)
        django.setup()
        return
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    settings.DATABASES["default"]["NAME"] = str(db)
    connections["default"].settings_dict["NAME"] = str(db)


def customers(n: int = 1000):
    from tradecrm.accounts.models import User
    from tradecrm.customers.services import company_create, contact_create

    user = User.objects.create(username="bench.mail", role="sales", first_name="Bench")
    contacts = []
    for i in range(n):
        domain = f"buyer{i}-imports.com"
        c = company_create(actor=user, data={"name": f"Buyer {i} Imports", "country": "US",
                                             "email": f"info@{domain}"})  # fmt: skip
        contact_create(actor=user, company=c, data={"first_name": f"John{i}", "last_name": "Doe",
                                                     "emails": [f"john{i}@{domain}"]})  # fmt: skip
        contacts.append((f"john{i}@{domain}", f"sales@{domain}"))
    return user, contacts


def messages(total: int, matched: float, contacts, own: str, rnd: random.Random):
    body = ("Dear partner,\r\n\r\nplease find our requirements below. " * 20 + "\r\n") * 3
    pdf = b"%PDF-1.4\n" + rnd.randbytes(40_000)
    import base64

    pdf_b64 = base64.encodebytes(pdf).replace(b"\n", b"\r\n")
    sent_ids: list[str] = []
    for i in range(total):
        is_customer = rnd.random() < matched
        in_sent = i % 10 == 9
        msgid = f"<bench{i}@mail.bench>"
        if is_customer:
            contact, other = rnd.choice(contacts)
            peer = contact if rnd.random() < 0.7 else other
        else:
            peer = f"newsletter{rnd.randrange(5000)}@{rnd.choice(['gmail.com', 'shop-news.com', 'qq.com', 'vendor.cn'])}"
        frm, to = (own, peer) if in_sent else (peer, own)
        head = (f"From: {frm}\r\nTo: {to}\r\nSubject: Inquiry {i} about LED panels\r\n"
                f"Date: Tue, 24 Nov 2026 10:{i % 60:02d}:00 +0000\r\nMessage-ID: {msgid}\r\n")  # fmt: skip
        if is_customer and sent_ids and rnd.random() < 0.2:
            head += f"In-Reply-To: {rnd.choice(sent_ids[-200:])}\r\n"
        if is_customer:
            sent_ids.append(msgid)
        if is_customer and rnd.random() < 0.02:
            raw = (head + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n--b1\r\n"
                   'Content-Type: application/pdf; name="spec.pdf"\r\nContent-Disposition: attachment; '
                   'filename="spec.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n').encode() + pdf_b64 + b"\r\n--b1--\r\n"
        else:
            raw = (head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()
        yield ("Sent" if in_sent else "INBOX"), raw


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--matched", type=float, default=0.3)
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--sqlite-mmap-mb", type=int, default=None,
                    help="set PRAGMA mmap_size for the sync's connection (settings: 1024 MB)")  # fmt: skip
    args = ap.parse_args()
    setup()
    from tradecrm.mailbox.models import Mailbox, MailMessage
    from tradecrm.mailbox.sync import mailbox_sync
    from tradecrm.mailbox.testing import TEST_PASSWORD, TEST_USER, Dovecot, dovecot_available

    if not dovecot_available():
        raise SystemExit("dovecot is not installed: run `make mail-deps`")
    log("creating 1,000 customers")
    user, contacts = customers()
    server = Dovecot.create()
    try:
        server.start()
        log(f"writing {args.messages:,} messages into the maildir")
        t = time.monotonic()
        for name in ("INBOX", "Sent"):  # streamed (same seed each pass): the peak RSS is the sync's
            stream = messages(args.messages, args.matched, contacts, TEST_USER, random.Random(8))
            server.write_maildir((raw for folder, raw in stream if folder == name), name)
        generate_s = time.monotonic() - t
        box = Mailbox.objects.create(user=user, email=TEST_USER, imap_host="127.0.0.1", imap_port=server.port,
                                     imap_ssl=False, smtp_host="127.0.0.1", smtp_port=25, smtp_security="none",
                                     username=TEST_USER, password=TEST_PASSWORD)  # fmt: skip
        if args.sqlite_mmap_mb is not None:
            from django.db import connection

            with connection.cursor() as cur:
                cur.execute(f"PRAGMA mmap_size={args.sqlite_mmap_mb * 1024 * 1024}")
        rss_before = rss_mb()
        log("first sync")
        t = time.monotonic()
        first = mailbox_sync(box)
        first_s = time.monotonic() - t
        log(f"first sync: {first.as_dict()}")
        after_first = proc_memory()
        incremental, inc_phases = [], []
        for _ in range(5):
            t = time.monotonic()
            r = mailbox_sync(box)
            incremental.append(time.monotonic() - t)
            inc_phases.append(r.phases)
            assert r.fetched == 0, r
        out = {
            "benchmark": "mail_sync",
            "database": "sqlite",
            "messages": args.messages,
            "matched_share": args.matched,
            "sqlite_mmap_mb": args.sqlite_mmap_mb if args.sqlite_mmap_mb is not None else "settings (1024; the sync itself maps 64)",
            "generate_maildir_s": round(generate_s, 1),
            "first_sync": {"seconds": round(first_s, 1), "messages_per_s": round(args.messages / first_s, 1),
                           "fetched": first.fetched, "stored": first.stored, "unknown": first.unknown,
                           "errors": len(first.errors), "target_messages_per_s": 200,
                           "phases_s": {k: round(v, 1) for k, v in first.phases.items()}},  # fmt: skip
            "memory": {"max_rss_mb": rss_mb(), "rss_before_sync_mb": rss_before, "target_mb": 300,
                       "after_first_sync": after_first},  # fmt: skip
            "incremental_nothing_new": {"median_s": round(statistics.median(incremental), 4),
                                        "max_s": round(max(incremental), 4), "runs": len(incremental),
                                        "target_s": 1.0, "phases_s_last": inc_phases[-1]},  # fmt: skip
            "stored_rows": MailMessage.objects.count(),
            "machine": common.machine(),
        }
    finally:
        server.cleanup()
    print(json.dumps(out, indent=2))
    if args.save:
        common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (common.RESULTS_DIR / "mail_sync.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
