"""Bench loader for the customer activity the grading engine reads beside the orders: payment
allocations, interactions, inquiries, samples, satisfaction surveys and customs records, added to a
bench database built by bench/load.py and bench/load_orders.py (run after both).

    .venv/bin/python bench/load_activity.py --companies 1000000 --database sqlite
    .venv/bin/python bench/load_activity.py --companies 20000 --database postgres --interactions 3

What is written, per company of the bench database (averages, all adjustable):
- orders_paymentallocation: one allocation per payment to the receivable it carries (what
  `orders.services.payment_record` writes for a payment that settles one receivable);
- interactions_interaction (--interactions 3): skewed: recent buyers most, leads and lost
  customers least, many companies none; emails, calls, chats, meetings, visits… in both directions
  over the last three years (not before the customer was created), logged by the customer's owner
  with the primary contact, subject/body/search text as the timeline stores them;
- sales_inquiry (--inquiries 0.4): all statuses (spam, qualified and converted included), the last
  two years, most linked to a customer, some not yet (buyer's details only), owner and team;
- sales_sample (--samples 0.1): all statuses; a sample sent has its "sample sent" interaction on
  the timeline, one with feedback has a 1–5 rating;
- service_survey (--surveys 0.05 = share of companies that answered): one survey per delivered
  order of a buyer (to its primary contact, 1–5 or NPS scale), answered ones with score and
  score_5 as `service.services.survey_answer` stores them, plus some never answered;
- customs_customsrecord (--customs 1.0 records per company, held by --customs-share 0.25 of them):
  shipments with the company as importer, each row passed through
  `customs.importing.prepare_customs_row` like the customs importer (keys, fingerprint).
Also sets Company.last_contact_at from the interactions, as the timeline does.

The existing rows of those tables are replaced. Rows are generated in worker processes (chunks of
companies read from the database) and written by the main process: executemany in one transaction
per chunk (SQLite, WAL so the workers can read) or COPY (PostgreSQL). Indexes (and the SQLite
timeline search index) are dropped for the load and rebuilt after it, then ANALYZE. Prints JSON
with the counts and timings. Deterministic for a given --seed (and --today).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import math
import multiprocessing as mp
import os
import random
import sys
import time
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from load_orders import CATEGORIES, _defaults  # noqa: E402

# written by the workers, in this order (allocations are derived from the payments in SQL)
TABLES = (
    "interactions_interaction",
    "sales_inquiry",
    "sales_sample",
    "service_survey",
    "customs_customsrecord",
)
ALL_TABLES = ("orders_paymentallocation", *TABLES)
CHUNK = 20_000  # companies per worker task
ID_SPAN = 256  # ids per company for interactions, inquiries, customs records (id = company * 256 + k)
MAX_PER_COMPANY = 200
INTERACTION_DAYS = 3 * 365
RECENT_DAYS = 2 * 365

# how many interactions a company gets, relative to the others (buyers by recency, else by status)
STATUS_WEIGHT = {"lead": 0.35, "prospect": 1.0, "sample": 1.6, "first_order": 1.2, "repeat": 1.2,
                 "dormant": 0.5, "lost": 0.25}  # fmt: skip
INTERACTION_KINDS = (  # type, direction, weight, subject, body
    ("email", "in", 22, "Re: {product} order", "Please confirm the lead time for {qty} pcs {product}."),
    ("email", "out", 26, "Quotation for {product}", "Dear {name},\nattached our quotation, valid 30 days."),
    ("call", "out", 9, "Follow-up call on the quotation", "Buyer compares with two other suppliers."),
    ("call", "in", 4, "Call about the shipment", "Asked for the B/L copy and the ETA at {city}."),
    ("whatsapp", "in", 8, "Sample request", "Can you send 2 samples of {product} by DHL?"),
    ("whatsapp", "out", 5, "Production photos", "Photos of the {product} on the line, packing next week."),
    ("wechat", "in", 3, "询价：{product}", "请报{qty}件{product}的CIF价格，目的港{city}。"),
    ("video", "", 3, "Video call: factory tour", "Showed the production line and QC station."),
    ("meeting", "", 3, "Visit to our showroom", "Checked packing and shipping marks."),
    ("visit", "", 1, "Visit at the customer's office in {city}", "Reviewed last season's claims."),
    ("trade_show", "", 2, "Met at the Canton Fair", "Interested in the new {product} series."),
    ("note", "", 6, "Credit check", "Bank reference OK; suggest 30% deposit, balance against B/L copy."),
)  # fmt: skip
DURATION_TYPES = {"call": (2, 40), "video": (15, 75), "meeting": (30, 180), "visit": (60, 240)}
INQUIRY_STATUSES = (("new", 14), ("replied", 30), ("qualified", 14), ("converted", 10), ("spam", 10),
                    ("closed", 22))  # fmt: skip
INQUIRY_CHANNELS = (("alibaba", 25), ("made_in_china", 8), ("global_sources", 4), ("website", 18),
                    ("email", 20), ("trade_show", 8), ("whatsapp", 8), ("phone", 3), ("referral", 4),
                    ("social", 2))  # fmt: skip
SAMPLE_STATUSES = (("requested", 10), ("preparing", 8), ("sent", 17), ("received", 20), ("feedback", 35),
                   ("cancelled", 10))  # fmt: skip
COURIERS = ("dhl", "fedex", "ups", "sf", "tnt")
RATINGS = (1, 2, 3, 3, 4, 4, 4, 5, 5, 5)
FEEDBACK = {1: "Not acceptable: wrong colour and loose stitching.", 2: "Quality below the sample we saw.",
            3: "Acceptable; packing needs improvement.", 4: "Good quality, close to our target.",
            5: "Excellent, exactly what we need."}  # fmt: skip
UNLINKED_BUYERS = ("Nordic Home Trading", "Atlas Import Group", "Sunrise Retail Ltd", "Costa Distribuciones",
                   "Baltic Sourcing OU", "Gulf Star General Trading", "Pampas Importadora", "Maple Leaf Goods Inc")  # fmt: skip
UNLINKED_PEOPLE = ("Anna Berg", "Omar Haddad", "Lucas Silva", "Mei Tan", "John Carter", "Olga Ivanova")
UNLINKED_COUNTRIES = ("SE", "AE", "GB", "ES", "EE", "SA", "AR", "CA", "US", "DE")
EXPORTERS = ("Ningbo Haitian Textile Co., Ltd.", "Shaoxing Keqiao Home Textiles Co., Ltd.",
             "Guangzhou Lumen Lighting Co., Ltd.", "Yiwu Bright Houseware Co., Ltd.",
             "Chaozhou Fine Ceramics Factory", "Zhongshan Guzhen Electric Co., Ltd.",
             "Hangzhou Silkroad Apparel Co., Ltd.", "Xiamen Oceanic Trading Co., Ltd.")  # fmt: skip
PORTS_CN = ("Ningbo", "Shanghai", "Shenzhen", "Xiamen", "Qingdao", "Guangzhou")
# HS headings of the bench product categories (load_orders.CATEGORIES, same order)
HS = ("6205", "6215", "6203", "6201", "6115", "6214", "6116", "6505", "4202", "4203", "6302", "6302", "6303",
      "6302", "6304", "6912", "6912", "6912", "8215", "6911", "8539", "9405", "8536", "8536", "8544", "8504")  # fmt: skip

_w: dict = {}  # per-worker state (fork)


def _init_worker(args, today, users, sqlite_path):
    _w.update(seed=args.seed, args=args, today=today, users=users, sqlite_path=sqlite_path, conn=None)


def _query(sql: str, params: tuple) -> list[tuple]:
    """Read from the bench database in a worker (its own connection, opened once)."""
    if _w["conn"] is None:
        if _w["sqlite_path"]:
            import sqlite3

            _w["conn"] = sqlite3.connect(f"file:{_w['sqlite_path']}?mode=ro", uri=True, timeout=60)
        else:
            import psycopg

            _w["conn"] = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    if _w["sqlite_path"]:
        sql = sql.replace("%s", "?")
    return _w["conn"].execute(sql, params).fetchall()


def _as_dt(v) -> dt.datetime:
    """A naive UTC datetime from what the driver returns (SQLite: text, PostgreSQL: aware datetime)."""
    if isinstance(v, str):
        return dt.datetime.fromisoformat(v[:19])
    return v.astimezone(dt.UTC).replace(tzinfo=None)


def _as_date(v) -> dt.date:
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


def _token(rnd: random.Random) -> str:
    """Like secrets.token_urlsafe(18), from the seeded generator."""
    return base64.urlsafe_b64encode(rnd.getrandbits(144).to_bytes(18, "big")).rstrip(b"=").decode()


def _pick(rnd: random.Random, weighted: tuple) -> str:
    return rnd.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _count(rnd: random.Random, mean: float) -> int:
    """A skewed count with the given mean: many zeros, a long tail (floored exponential)."""
    if mean <= 0:
        return 0
    # floor(X) for X exponential with scale θ has the mean 1 / (e^(1/θ) - 1)
    return min(MAX_PER_COMPANY, int(rnd.expovariate(math.log1p(1.0 / mean))))


def _read_chunk(first: int, last: int):
    companies = _query(
        "SELECT id, name, country, city, owner_id, status, created_at, email, preferred_language "
        "FROM customers_company WHERE id BETWEEN %s AND %s ORDER BY id",
        (first, last),
    )
    contacts = {}
    for cid, pk, first_name, last_name, email, lang in _query(
        "SELECT company_id, id, first_name, last_name, email, preferred_language FROM customers_contact "
        "WHERE company_id BETWEEN %s AND %s AND is_primary ORDER BY company_id, id",
        (first, last),
    ):
        contacts.setdefault(cid, (pk, f"{first_name} {last_name}".strip(), email, lang))
    orders: dict[int, list] = {}
    for cid, oid, day, status in _query(
        "SELECT company_id, id, document_date, status FROM orders_order "
        "WHERE company_id BETWEEN %s AND %s AND status <> 'cancelled' ORDER BY company_id, document_date, id",
        (first, last),
    ):
        orders.setdefault(cid, []).append((oid, _as_date(day), status))
    return companies, contacts, orders


def _interaction_row(pk, me, kind, direction, subject, body, when, duration) -> tuple:
    """An interaction as `interaction_create` stores it: body escaped to HTML, search text with the
    contact's name; logged by the customer's owner."""
    from tradecrm.interactions.services import interaction_search_text

    cid, contact_id, contact_name, owner, fill = me
    subject = subject.format(**fill)
    body_html = escape(body.format(**fill)).replace("\n", "<br>")
    search = interaction_search_text(subject, body_html, contact_name)
    return (pk, when, when, cid, contact_id, kind, direction, when, duration, subject, body_html, "manual", "",
            owner, owner, search, 1)  # fmt: skip


def _build(task):
    """Rows of the five tables for the companies [first, first + count)."""
    from tradecrm.customs.importing import COLUMNS as CUSTOMS_COLUMNS
    from tradecrm.customs.importing import prepare_customs_row
    from tradecrm.interactions.demo import PRODUCTS
    from tradecrm.sales.services import search_document
    from tradecrm.service.services import LINK_DAYS, score_5

    first, count = task
    a, today, users = _w["args"], _w["today"], _w["users"]
    pg = _w["sqlite_path"] == ""
    rnd = random.Random(_w["seed"] * 1_000_003 + first)
    now = dt.datetime.combine(today, dt.time(0, 0))  # everything before the day the history ends

    def ts(v: dt.datetime) -> str:
        return v.isoformat(" ", "seconds") + ("+00" if pg else "")

    companies, contacts, orders = _read_chunk(first, first + count - 1)
    n = max(1, len(companies))
    # each company's weight for interactions, inquiries and samples, normalised over the chunk
    weights = {}
    for cid, _name, _c, _city, _o, status, _cr, _e, _l in companies:
        mine = orders.get(cid)
        if mine:
            age = (today - mine[-1][1]).days
            w = 3.0 if age <= 180 else 2.0 if age <= 365 else 1.2 if age <= 730 else 0.6
            w *= 1 + min(len(mine), 20) / 20
        else:
            w = STATUS_WEIGHT.get(status, 0.5)
        weights[cid] = w
    mean_w = sum(weights.values()) / n
    buyers = [c for c in orders if orders[c]]
    survey_p = min(1.0, a.surveys * n / max(1, len(buyers)))
    kinds = [k[:2] + k[3:] for k in INTERACTION_KINDS]
    kind_weights = [k[2] for k in INTERACTION_KINDS]

    inter, inquiries, samples, surveys, customs = [], [], [], [], []
    for cid, name, country, city, owner, _status, created, cemail, clang in companies:
        r = weights[cid] / mean_w
        created = _as_dt(created)
        contact_id, contact_name, contact_email, contact_lang = contacts.get(cid, (None, "", "", ""))
        product = rnd.choice(PRODUCTS)
        fill = {"product": product, "qty": rnd.choice((500, 1000, 2000, 5000, 10000)),
                "city": city or "Hamburg", "name": contact_name or name}  # fmt: skip
        base_id = cid * ID_SPAN
        me = (cid, contact_id, contact_name, owner, fill)
        k_int = 0
        span = max(1, min(INTERACTION_DAYS * 1440, int((now - created).total_seconds() // 60)))

        # interactions: within the customer's time in the CRM (at most three years), recent ones likelier
        for _ in range(_count(rnd, a.interactions * r)):
            kind, direction, subject, body = rnd.choices(kinds, weights=kind_weights)[0]
            when = now - dt.timedelta(minutes=int(span * rnd.random() ** 1.6))
            low_high = DURATION_TYPES.get(kind)
            duration = rnd.randint(*low_high) if low_high and rnd.random() < 0.8 else None
            inter.append(
                _interaction_row(base_id + k_int, me, kind, direction, subject, body, ts(when), duration)
            )
            k_int += 1

        # inquiries (spam more often from buyers not in the CRM)
        for k in range(min(ID_SPAN, _count(rnd, a.inquiries * (0.5 + r / 2)))):
            received = now - dt.timedelta(minutes=rnd.randrange(RECENT_DAYS * 1440))
            st = _pick(rnd, INQUIRY_STATUSES)
            channel = _pick(rnd, INQUIRY_CHANNELS)
            unlinked = min(0.9, 3 * a.unlinked_inquiries) if st == "spam" else a.unlinked_inquiries
            linked = rnd.random() >= unlinked
            if linked:
                company_id, contact, who, firm, mail, ctry, own = cid, contact_id, contact_name, name, \
                    contact_email or cemail, country, owner  # fmt: skip
            else:
                company_id, contact = None, None
                who, firm = rnd.choice(UNLINKED_PEOPLE), rnd.choice(UNLINKED_BUYERS)
                mail = f"{who.split()[0].lower()}@example.com"
                ctry, own = rnd.choice(UNLINKED_COUNTRIES), owner if rnd.random() < 0.6 else None
            subject = f"Inquiry: {product}, {fill['qty']} pcs"
            detail = f"RFQ {cid}-{k}" if channel in ("alibaba", "made_in_china", "global_sources") else ""
            replied = (
                ts(min(now, received + dt.timedelta(hours=rnd.randint(1, 48))))
                if st not in ("new", "spam")
                else None
            )
            inquiries.append((base_id + k, ts(received), ts(received), channel, detail, ts(received), company_id,
                              contact, who, firm, mail, ctry, subject, f"Please quote {fill['qty']} pcs {product}.",
                              st, own, users.get(own), replied, search_document(subject, firm, who, mail, detail, ""),
                              1, own, own))  # fmt: skip

        # samples; one sent gets its "sample sent" interaction
        for k in range(min(ID_SPAN, _count(rnd, a.samples * r))):
            requested = today - dt.timedelta(days=rnd.randrange(RECENT_DAYS))
            st = _pick(rnd, SAMPLE_STATUSES)
            sent_on = received_on = rating = None
            feedback, courier, tracking, link = "", "", "", None
            if st in ("sent", "received", "feedback"):
                sent_on = min(today, requested + dt.timedelta(days=rnd.randint(2, 10)))
                courier, tracking = rnd.choice(COURIERS), f"{rnd.randrange(10**9, 10**10)}"
                when = dt.datetime.combine(sent_on, dt.time(rnd.randint(8, 17), rnd.randrange(60)))
                subject = f"Samples sent by {courier.upper()}"
                body = f"2 pcs {{product}}, {courier.upper()} tracking {tracking}."
                if k_int < ID_SPAN:
                    link = base_id + k_int
                    inter.append(
                        _interaction_row(link, me, "sample", "out", subject, body, ts(min(when, now)), None)
                    )
                    k_int += 1
            if st in ("received", "feedback") and sent_on:
                received_on = min(today, sent_on + dt.timedelta(days=rnd.randint(3, 8)))
            if st == "feedback" and received_on:
                rating = rnd.choice(RATINGS)
                feedback = FEEDBACK[rating]
            elif st == "feedback":
                st = "sent"
            stamp = ts(dt.datetime.combine(requested, dt.time(9, 0)))
            samples.append((base_id + k, stamp, stamp, cid, contact_id, st, requested.isoformat(),
                            f"{name}\n{city}", courier, tracking, round(rnd.uniform(20, 120), 2), "USD",
                            rnd.choice(("us", "customer", "collect")), sent_on and sent_on.isoformat(),
                            received_on and received_on.isoformat(), feedback, rating, owner, link, owner, owner))  # fmt: skip

        # surveys: the buyer's delivered orders, to the primary contact (no e-mail: none sent)
        mine = orders.get(cid)
        email = contact_email or cemail
        if mine and email:
            answered = rnd.random() < survey_p
            unanswered = not answered and rnd.random() < survey_p * 0.6
            done = [o for o in mine if o[2] in ("delivered", "completed")
                    and o[1] + dt.timedelta(days=45) <= today]  # fmt: skip
            picks = done[-rnd.randint(1, 3) :] if answered else done[-1:] if unanswered else []
            lang = "zh-hans" if (contact_lang or clang or "").lower().startswith("zh") else "en"
            scale = "five" if rnd.random() < 0.7 else "nps"
            for j, (oid, day, _st) in enumerate(picks):
                delivered = day + dt.timedelta(days=rnd.randint(25, 38))
                made = dt.datetime.combine(delivered + dt.timedelta(days=7), dt.time(1, 5))
                score = answered_at = s5 = None
                comment = ""
                if answered and (j == len(picks) - 1 or rnd.random() < 0.5):
                    score = (
                        rnd.choice(RATINGS) if scale == "five" else rnd.choice((3, 6, 7, 8, 8, 9, 9, 10, 10))
                    )
                    s5 = score_5(scale, score)
                    answered_at = ts(min(now, made + dt.timedelta(hours=rnd.randint(2, 120))))
                    comment = FEEDBACK[max(1, min(5, round(s5)))] if rnd.random() < 0.3 else ""
                surveys.append((oid, cid, oid, contact_id, email, lang, "", scale, _token(rnd), delivered.isoformat(),
                                ts(made), ts(made + dt.timedelta(minutes=1)), "",
                                ts(made + dt.timedelta(days=LINK_DAYS)), score, s5, comment, answered_at, None))  # fmt: skip

        # customs records: the company as importer (a vendor's spelling), a few exporters
        if rnd.random() < a.customs_share:
            per = a.customs / max(a.customs_share, 1e-9)
            exporters = rnd.sample(EXPORTERS, rnd.randint(1, 3))
            cats = rnd.sample(range(len(CATEGORIES)), rnd.randint(1, 2))
            for k in range(min(ID_SPAN, 1 + _count(rnd, per - 1))):
                day = today - dt.timedelta(days=rnd.randrange(RECENT_DAYS))
                cat = rnd.choice(cats)
                qty = rnd.randrange(500, 20000, 100)
                row = prepare_customs_row(
                    {"importer_name": name.upper() if rnd.random() < 0.5 else name, "importer_country": country,
                     "exporter_name": rnd.choice(exporters), "exporter_country": "CN",
                     "hs_code": f"{HS[cat]}{rnd.randrange(10, 99)}", "product_description": CATEGORIES[cat].upper(),
                     "quantity": qty, "quantity_unit": "PCS", "weight_kg": round(qty * rnd.uniform(0.1, 0.6), 1),
                     "value": round(qty * rnd.uniform(0.8, 12), 2), "currency": "USD", "date": day,
                     "port_of_loading": rnd.choice(PORTS_CN), "port_of_discharge": city or "",
                     "bl_number": f"BL{cid:07d}{k:03d}", "origin_country": "CN", "company_id": cid},
                    today=today,
                )  # fmt: skip
                stamp = ts(dt.datetime.combine(day + dt.timedelta(days=20), dt.time(3, 0)))
                customs.append((base_id + k, stamp, stamp, *(row[c] for c in CUSTOMS_COLUMNS)))
    return inter, inquiries, samples, surveys, customs


COLUMNS = {
    "interactions_interaction": ("id", "created_at", "updated_at", "company_id", "contact_id", "type", "direction",
                                 "occurred_at", "duration_minutes", "subject", "body", "source", "external_id",
                                 "owner_id", "updated_by_id", "search_text", "version"),
    "sales_inquiry": ("id", "created_at", "updated_at", "channel", "channel_detail", "received_at", "company_id",
                      "contact_id", "buyer_name", "buyer_company", "buyer_email", "buyer_country", "subject",
                      "message", "status", "owner_id", "team_id", "replied_at", "search_text", "version",
                      "created_by_id", "updated_by_id"),
    "sales_sample": ("id", "created_at", "updated_at", "company_id", "contact_id", "status", "requested_on", "ship_to",
                     "courier", "tracking_number", "cost", "cost_currency", "paid_by", "sent_on", "received_on",
                     "feedback", "feedback_rating", "owner_id", "interaction_id", "created_by_id", "updated_by_id"),
    "service_survey": ("id", "company_id", "order_id", "contact_id", "email", "language", "tier", "scale", "token",
                       "delivered_on", "created_at", "sent_at", "send_error", "expires_at", "score", "score_5",
                       "comment", "answered_at", "changed_at"),
}  # fmt: skip


def _clear_sql(models: dict) -> list[str]:
    """What replacing the rows takes: what points at them emptied (SET_NULL) or deleted with them
    (CASCADE: items, revisions, attachments, many-to-many rows), then the tables themselves, and
    the customers' last contact (recomputed from the new interactions at the end)."""
    from django.db import models as m

    targets = set(ALL_TABLES)
    nulls, children = [], []
    for model in models.values():
        table = model._meta.db_table
        if table in targets:
            children += [f.remote_field.through._meta.db_table for f in model._meta.many_to_many]
            continue
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model and f.related_model._meta.db_table in targets:
                if f.remote_field.on_delete is m.SET_NULL:
                    nulls.append(f"UPDATE {table} SET {f.column} = NULL WHERE {f.column} IS NOT NULL")
                elif f.remote_field.on_delete is m.CASCADE:
                    children.append(table)
    return [
        *nulls,
        *(f"DELETE FROM {t}" for t in dict.fromkeys(children)),
        *(f"DELETE FROM {t}" for t in reversed(ALL_TABLES)),
        "UPDATE customers_company SET last_contact_at = NULL WHERE last_contact_at IS NOT NULL",
    ]


def load(args) -> dict:
    common.setup_django(args.database, args.companies)
    from django.apps import apps
    from django.db import connection

    from tradecrm.customs.importing import COLUMNS as CUSTOMS_COLUMNS
    from tradecrm.interactions.models import CONTACT_TYPES

    COLUMNS["customs_customsrecord"] = ("id", "created_at", "updated_at", *CUSTOMS_COLUMNS)
    timings: dict = {}
    t0 = time.perf_counter()
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    models = {m._meta.db_table: m for m in apps.get_models()}
    extra = {t: _defaults(models[t], COLUMNS[t]) for t in TABLES}
    columns = {t: COLUMNS[t] + extra[t][0] for t in TABLES}
    with connection.cursor() as cur:
        cur.execute("SELECT id, team_id FROM accounts_user")
        users = dict(cur.fetchall())
        cur.execute("SELECT MIN(id), MAX(id) FROM customers_company")
        lo, hi = cur.fetchone()
    connection.close()
    if lo is None:
        raise SystemExit("no companies: build the bench database with bench/load.py first")
    contact_types = tuple(str(t) for t in CONTACT_TYPES)
    clear = _clear_sql(models)
    timings["prepare_s"] = round(time.perf_counter() - t0, 1)

    if args.database == "sqlite":
        import sqlite3

        from tradecrm.core.search import fts_drop_sql, fts_install_sql

        sqlite_path = os.environ["TRADECRM_SQLITE_PATH"]
        conn = sqlite3.connect(sqlite_path, isolation_level=None, timeout=60)
        # WAL (not an exclusive lock): the workers read the companies and orders while this writes
        for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-500000", "temp_store=MEMORY",
                       "foreign_keys=OFF"):  # fmt: skip
            conn.execute(f"PRAGMA {pragma}")
        index_sql = common.sqlite_drop_indexes(conn, ALL_TABLES)
        for sql in fts_drop_sql("interactions_interaction", "sqlite"):
            conn.execute(sql)
        conn.execute("BEGIN")
        for sql in clear:
            conn.execute(sql)
        conn.execute("COMMIT")
        sqls = {
            t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
            for t, c in columns.items()
        }

        def write(parts):
            conn.execute("BEGIN")
            for table, rows in zip(TABLES, parts, strict=True):
                tail = extra[table][1]
                conn.executemany(sqls[table], (r + tail for r in rows))
            conn.execute("COMMIT")

        def execute(sql):
            conn.execute(sql)
    else:
        import psycopg

        from tradecrm.customers.demo import _copy

        sqlite_path = ""
        conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        cur = conn.cursor()
        index_sql, fks = common.pg_drop_indexes(cur, ALL_TABLES)
        with conn.transaction():
            for sql in clear:
                cur.execute(sql)

        def write(parts):
            with conn.transaction():
                for table, rows in zip(TABLES, parts, strict=True):
                    tail = extra[table][1]
                    _copy(cur, table, columns[table], [r + tail for r in rows])

        def execute(sql):
            cur.execute(sql)

    timings["clear_s"] = round(
        time.perf_counter() - t0 - timings["prepare_s"], 1
    )  # indexes dropped, rows deleted
    counts = dict.fromkeys(TABLES, 0)
    tasks = [(first, min(CHUNK, hi + 1 - first)) for first in range(lo, hi + 1, CHUNK)]
    t = time.perf_counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(args.workers, initializer=_init_worker, initargs=(args, today, users, sqlite_path)) as pool:
        for i, parts in enumerate(pool.imap(_build, tasks)):
            write(parts)
            for table, rows in zip(TABLES, parts, strict=True):
                counts[table] += len(rows)
            if not args.quiet and (i + 1) % 5 == 0:
                el = time.perf_counter() - t
                print(
                    f"  {i + 1}/{len(tasks)} chunks, {sum(counts.values()):,} rows, {el:.0f} s",
                    file=sys.stderr,
                )
    timings["insert_s"] = round(time.perf_counter() - t, 1)

    # one allocation per payment, to the receivable it carries, for all it settles (payment_record)
    t = time.perf_counter()
    execute(
        "INSERT INTO orders_paymentallocation (id, payment_id, receivable_id, amount) "
        "SELECT id, id, receivable_id, applied_amount FROM orders_payment WHERE receivable_id IS NOT NULL"
    )
    timings["allocations_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    if args.database == "sqlite":
        for sql in index_sql:
            conn.execute(sql)
        timings["indexes_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        for sql in fts_install_sql("interactions_interaction", "sqlite"):  # FTS table, triggers, 'rebuild'
            conn.execute(sql)
        timings["search_index_s"] = round(time.perf_counter() - t, 1)
    else:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for sql in index_sql:
            cur.execute(sql)
        common.pg_restore_foreign_keys(cur, fks, ALL_TABLES)
        timings["indexes_s"] = round(time.perf_counter() - t, 1)
    # Company.last_contact_at: the latest contact-type interaction (company_refresh_last_contact)
    t = time.perf_counter()
    kinds = ", ".join(f"'{k}'" for k in contact_types)
    execute(
        "UPDATE customers_company SET last_contact_at = m.at FROM (SELECT company_id, MAX(occurred_at) AS at "
        f"FROM interactions_interaction WHERE type IN ({kinds}) GROUP BY company_id) m "
        "WHERE customers_company.id = m.company_id"
    )
    timings["last_contact_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    with_rows: dict = {}
    if args.database == "sqlite":
        conn.execute("ANALYZE")
        counts["orders_paymentallocation"] = conn.execute(
            "SELECT COUNT(*) FROM orders_paymentallocation"
        ).fetchone()[0]
        for table, col in (("interactions_interaction", "company_id"), ("service_survey", "company_id"),
                           ("customs_customsrecord", "company_id")):  # fmt: skip
            with_rows[table] = conn.execute(f"SELECT COUNT(DISTINCT {col}) FROM {table}").fetchone()[0]
        conn.close()
    else:
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT COUNT(*) FROM orders_paymentallocation")
        counts["orders_paymentallocation"] = cur.fetchone()[0]
        for table in ("interactions_interaction", "service_survey", "customs_customsrecord"):
            cur.execute(f"SELECT COUNT(DISTINCT company_id) FROM {table}")
            with_rows[table] = cur.fetchone()[0]
        conn.close()
    timings["analyze_s"] = round(time.perf_counter() - t, 1)
    total = time.perf_counter() - t0
    rows = sum(counts.values())
    return {
        "benchmark": "load_activity",
        "database": args.database,
        "companies": hi - lo + 1,
        "rows": counts,
        "companies_with_rows": with_rows,
        "rows_per_s": round(rows / timings["insert_s"]) if timings["insert_s"] else None,
        "seconds": round(total, 1),
        "timings": timings,
        "today": today.isoformat(),
        "seed": args.seed,
        "workers": args.workers,
        "machine": common.machine(),
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--companies", type=int, default=1_000_000, help="which bench database (bench/load.py size)"
    )
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--interactions", type=float, default=3.0, help="interactions per company (average)")
    p.add_argument("--inquiries", type=float, default=0.4, help="inquiries per company (average)")
    p.add_argument(
        "--unlinked-inquiries", type=float, default=0.15, help="share of inquiries without a customer"
    )
    p.add_argument("--samples", type=float, default=0.1, help="samples per company (average)")
    p.add_argument("--surveys", type=float, default=0.05, help="share of companies that answered surveys")
    p.add_argument("--customs", type=float, default=1.0, help="customs records per company (average)")
    p.add_argument(
        "--customs-share", type=float, default=0.25, help="share of companies with customs records"
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--today", default="", help="ISO date the history ends (default: today)")
    p.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    p.add_argument("--quiet", action="store_true")
    p.add_argument(
        "--save", action="store_true", help="also write bench/results/load-activity-<db>-<size>.json"
    )
    args = p.parse_args(argv)
    result = load(args)
    if args.save:
        common.save(f"load-activity-{args.database}-{common.size_label(args.companies)}", result)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
