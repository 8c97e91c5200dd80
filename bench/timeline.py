"""Timeline benchmarks: (a) the first page of one customer's timeline with 10,000 entries, server
time and queries; (b) timeline search over millions of interactions for a sales rep and a manager.

    .venv/bin/python bench/timeline.py --database sqlite                       # 5M interactions
    .venv/bin/python bench/timeline.py --database sqlite --interactions 200000 --companies 10000
    .venv/bin/python bench/timeline.py --database postgres

The bench database is built once and cached (SQLite var/bench/sqlite-timeline-<n>.sqlite3,
PostgreSQL tradecrm_bench_timeline_<n>): companies, contacts and users by bench/load.py's loader,
then the interactions generated in worker processes (English and Chinese subjects and bodies,
search_text computed by the real `interaction_search_text`) and written with raw sqlite3
`executemany` / psycopg COPY, indexes and the search index built after the load.

(a) is measured with Django's test Client in-process around each request (the htmx endpoint the
customer page loads its timeline from), signed in as the rep who owns the customer; (b) around
`selectors.timeline_search` (the query, its paging and the related rows of the 30 hits).
Prints JSON and writes bench/results/timeline-<database>.json with --save.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import load  # noqa: E402

CHUNK = 50_000
BIG_COMPANY_ROWS = 10_000
TABLE = "interactions_interaction"

# --- where the bench database lives ------------------------------------------------------------

_LABEL = "5m"


def _db_env(database: str, companies: int) -> dict[str, str]:
    common.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    env = {"TRADECRM_DATA_DIR": str(common.BENCH_DIR / "data"), "TRADECRM_LOG_LEVEL": "ERROR"}
    if database == "sqlite":
        env["TRADECRM_SQLITE_PATH"] = str(common.BENCH_DIR / f"sqlite-timeline-{_LABEL}.sqlite3")
        env["DATABASE_URL"] = ""
    else:
        env["DATABASE_URL"] = f"{common.PG}/tradecrm_bench_timeline_{_LABEL}"
    return env


def _use_own_database(label: str) -> None:
    """Point bench/load.py's helpers at this benchmark's own database, not the shared 1M one."""
    global _LABEL
    _LABEL = label
    common.db_env = _db_env
    common.pg_name = lambda companies: f"tradecrm_bench_timeline_{_LABEL}"


# --- text ----------------------------------------------------------------------------------------

PRODUCTS = (
    ("LED panel light", "LED面板灯"), ("solar inverter", "太阳能逆变器"), ("stainless steel valve", "不锈钢阀门"),
    ("PVC pipe", "PVC管材"), ("ceramic floor tile", "陶瓷地砖"), ("cotton T-shirt", "纯棉T恤"),
    ("lithium battery pack", "锂电池组"), ("office chair", "办公椅"), ("hydraulic pump", "液压泵"),
    ("bluetooth speaker", "蓝牙音箱"), ("aluminium profile", "铝型材"), ("silicone kitchenware", "硅胶厨具"),
    ("electric scooter", "电动滑板车"), ("glass bottle", "玻璃瓶"), ("copper cable", "铜电缆"),
    ("garden hose", "花园水管"), ("yoga mat", "瑜伽垫"), ("laser cutting machine", "激光切割机"),
    ("frozen shrimp", "冷冻虾"), ("tea set", "茶具"), ("water filter", "净水器"), ("steel wire rope", "钢丝绳"),
    ("wooden toy", "木制玩具"), ("car brake pad", "汽车刹车片"), ("down jacket", "羽绒服"),
)  # fmt: skip
PORTS = (("Ningbo", "宁波"), ("Shenzhen", "深圳"), ("Shanghai", "上海"), ("Qingdao", "青岛"), ("Xiamen", "厦门"),
         ("Guangzhou", "广州"), ("Tianjin", "天津"))  # fmt: skip
COURIERS = ("DHL", "FedEx", "UPS", "TNT", "EMS")
SHOWS = ("Canton Fair", "Hong Kong Electronics Fair", "Automechanika", "Ambiente", "CES")
EN_SUBJECTS = (
    "Quotation for {qty} pcs {p}", "Re: inquiry about {p}", "Sample of {p} sent by {c}", "Price negotiation {p} FOB {port}",
    "Payment reminder PI-{n}", "Order confirmation PO {n}", "Follow-up after {show}", "Lead time for {p}",
    "Shipping schedule {port} to {dest}", "Complaint about carton damage", "New catalogue {year}",
    "Call about {p} specifications", "Video call: factory tour", "Visit to {port} factory", "Deposit received for PO {n}",
    "Certificates CE RoHS for {p}", "MOQ question {p}", "Re: Re: revised offer {p}",
)  # fmt: skip
EN_BODIES = (
    "Customer asked for the best price for {qty} pcs {p}, FOB {port}. Sent the price list.",
    "They want {p} in private-label packaging, MOQ 1x40HQ; will confirm colours next week.",
    "Sample sent by {c}, tracking {track}. Buyer will test it with their engineer.",
    "Discussed payment terms: 30% T/T deposit, 70% against B/L copy. He prefers L/C at sight.",
    "Competitor from Vietnam quotes 5% lower. Offered free spare parts instead of a discount.",
    "Met at {show} booth; interested in {p} and asked for the catalogue and certificates.",
    "Container loading planned at {port} on {date}; ETA {dest} about four weeks later.",
    "Buyer complained about damaged cartons in the last shipment; we will reinforce packaging.",
    "Confirmed PO {n} for {qty} pcs {p}; deposit expected this week.",
    "Asked about lead time: 35 days after deposit for {p}. Needs it before Christmas season.",
    "Long call about technical specifications of {p}; sending drawings tomorrow.",
)  # fmt: skip
ZH_SUBJECTS = (
    "{p}报价单", "客户询问{p}的交期", "样品已通过{c}寄出", "{port}港口装柜安排", "付款提醒 PI-{n}", "订单确认 PO {n}",
    "{show}展会后跟进", "{p}价格谈判", "客户投诉包装破损", "视频通话：工厂参观", "拜访{port}工厂", "{p}认证资料",
)  # fmt: skip
ZH_BODIES = (
    "客户要求{p}的最低价格，数量{qty}件，FOB{port}。已发送报价单。",
    "样品已通过{c}寄出，单号{track}，客户收到后会安排测试。",
    "讨论付款方式：30%定金，70%见提单副本付款。客户希望用信用证。",
    "越南竞争对手报价低5%，我们提出赠送备件代替降价。",
    "在{show}展位见面，对{p}感兴趣，索取目录和认证。",
    "计划{date}在{port}装柜，预计四周后到港。",
    "客户投诉上批货纸箱破损，我们会加固包装。",
    "确认订单PO {n}，{qty}件{p}，本周内付定金。",
    "交期：收到定金后35天。客户需要在圣诞季之前到货。",
)  # fmt: skip
DESTS = (
    "Hamburg",
    "Rotterdam",
    "Los Angeles",
    "Dubai",
    "Lagos",
    "Santos",
    "Sydney",
    "Jebel Ali",
    "Felixstowe",
)
TYPES = (("email", 40), ("call", 15), ("whatsapp", 15), ("wechat", 8), ("meeting", 5), ("video", 3), ("visit", 2),
         ("trade_show", 2), ("sample", 3), ("note", 7))  # fmt: skip


def _text(r: random.Random, chinese: bool, when: dt.datetime) -> tuple[str, str]:
    p_en, p_zh = r.choice(PRODUCTS)
    port_en, port_zh = r.choice(PORTS)
    values = {
        "qty": r.choice((100, 200, 500, 1000, 2000, 5000, 10000)),
        "n": f"{when:%y}{r.randrange(10000):04d}",
        "c": r.choice(COURIERS),
        "show": r.choice(SHOWS),
        "dest": r.choice(DESTS),
        "year": when.year,
        "track": f"{r.randrange(10**9, 10**10)}",
        "date": f"{when + dt.timedelta(days=r.randrange(7, 60)):%Y-%m-%d}",
    }
    if chinese:
        values.update(p=p_zh, port=port_zh)
        subject = r.choice(ZH_SUBJECTS).format(**values)
        body = "".join(r.choice(ZH_BODIES).format(**values) for _ in range(r.choice((1, 1, 2))))
    else:
        values.update(p=p_en, port=port_en)
        subject = r.choice(EN_SUBJECTS).format(**values)
        body = " ".join(r.choice(EN_BODIES).format(**values) for _ in range(r.choice((1, 1, 2, 3))))
    return subject, body


# --- generation (worker processes) ---------------------------------------------------------------

_ctx: dict = {}


def _init_worker(ctx: dict) -> None:
    _ctx.update(ctx)


def _fmt(moment: dt.datetime, database: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if database == "sqlite" else moment.isoformat()


def _build(args):
    """Rows for interaction ids [first, first + n): every big_stride-th id is the big customer's,
    the others go to a company weighted at random; time rises with the id, with a month of jitter."""
    from tradecrm.interactions.services import interaction_search_text
    from tradecrm.interactions.validation import text_to_html

    first, n = args
    c = _ctx
    r = random.Random(c["seed"] * 1_000_003 + first)
    companies, owners, contacts = c["companies"], c["owners"], c["contacts"]
    start, span, total, db = c["start"], c["span"], c["total"], c["database"]
    types, weights = zip(*TYPES, strict=True)
    out = []
    for iid in range(first, first + n):
        if iid % c["big_stride"] == 0:  # the big customer's entries, spread over the whole span
            company = c["big_company"]
        else:
            # a few customers have long histories, most a handful of entries
            company = companies[min(len(companies) - 1, int(len(companies) * r.random() ** 1.6))]
        owner = owners[company]
        when = start + span * (iid / total) + dt.timedelta(minutes=r.randrange(-43200, 43200))
        when = min(when, c["now"])
        kind = r.choices(types, weights)[0]
        who = contacts.get(company) or []
        contact = r.choice(who) if who and kind != "note" and r.random() < 0.8 else None
        chinese = r.random() < 0.3
        subject, body = _text(r, chinese, when)
        names = f"{contact[1]} {contact[2]} {contact[3]}" if contact else ""
        direction = "" if kind in ("note", "sample") else r.choice(("in", "out"))
        stamp = _fmt(when, db)
        body_html = text_to_html(body)
        out.append(
            (
                iid, company, contact[0] if contact else None, kind, direction, stamp,
                r.choice((None, 5, 15, 30)) if kind in ("call", "meeting", "video") else None,
                subject, body_html, "manual", "", owner, owner,
                interaction_search_text(subject, body_html, names), 1, stamp, stamp,
            )
        )  # fmt: skip
    return out


COLUMNS = (
    "id", "company_id", "contact_id", "type", "direction", "occurred_at", "duration_minutes", "subject", "body",
    "source", "external_id", "owner_id", "updated_by_id", "search_text", "version", "created_at", "updated_at",
)  # fmt: skip


def build_database(args) -> dict:
    """Companies, contacts and users by bench/load.py; interactions generated here."""
    timings: dict = {}
    t0 = time.perf_counter()
    load.load(
        argparse.Namespace(
            companies=args.companies,
            contacts_per_company=2,
            database=args.database,
            seed=args.seed,
            workers=args.workers,
            quiet=True,
            save=False,
            if_missing=False,
        )
    )
    timings["companies_s"] = round(time.perf_counter() - t0, 1)
    from django.db import connection

    from tradecrm.accounts.models import User
    from tradecrm.customers.models import Company, Contact

    sales = User.objects.get(username=common.PERSONAS["sales"])
    owners = dict(Company.objects.values_list("id", "owner_id"))
    big = Company.objects.filter(owner=sales).order_by("id").values_list("id", flat=True).first()
    contacts: dict[int, list] = {}
    for row in Contact.objects.values_list("company_id", "id", "first_name", "last_name", "name_local"):
        contacts.setdefault(row[0], []).append(row[1:])
    now = dt.datetime.now(dt.UTC)
    ctx = {
        "seed": args.seed,
        "companies": [i for i in sorted(owners) if i != big],
        "owners": owners,
        "contacts": contacts,
        "big_company": big,
        "start": now - dt.timedelta(days=3 * 365),
        "span": dt.timedelta(days=3 * 365),
        "total": args.interactions,
        "big_stride": max(1, args.interactions // BIG_COMPANY_ROWS),
        "now": now,
        "database": args.database,
    }
    connection.close()
    chunks = [(f, min(CHUNK, args.interactions - f + 1)) for f in range(1, args.interactions + 1, CHUNK)]
    t = time.perf_counter()
    if args.database == "sqlite":
        import sqlite3

        conn = sqlite3.connect(os.environ["TRADECRM_SQLITE_PATH"], isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY",
                       "locking_mode=EXCLUSIVE", "foreign_keys=OFF"):  # fmt: skip
            conn.execute(f"PRAGMA {pragma}")
        index_sql = _sqlite_drop_indexes(conn)
        sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

        def write(rows):
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
    else:
        import psycopg

        from tradecrm.customers.demo import _copy

        conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        cur = conn.cursor()
        cur.execute(
            f"SELECT indexdef, indexname FROM pg_indexes WHERE tablename = '{TABLE}' AND indexname NOT IN "
            f"(SELECT conname FROM pg_constraint)"
        )
        index_sql = [d for d, _n in cur.fetchall()]
        for d in index_sql:
            cur.execute(f'DROP INDEX "{d.split(" INDEX ", 1)[1].split(" ON ", 1)[0].strip()}"')
        cur.execute(
            f"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            f"AND conrelid = '{TABLE}'::regclass"
        )
        fks = cur.fetchall()
        for name, _d in fks:
            cur.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')

        def write(rows):
            with conn.transaction():
                _copy(cur, TABLE, COLUMNS, rows)

    done = 0
    with mp.get_context("fork").Pool(args.workers, initializer=_init_worker, initargs=(ctx,)) as pool:
        for rows in pool.imap(_build, chunks):
            write(rows)
            done += len(rows)
            if not args.quiet and done % 500_000 < CHUNK:
                el = time.perf_counter() - t
                print(f"  {done:,} interactions, {el:.0f} s, {done / el:,.0f}/s", file=sys.stderr)
    timings["interactions_insert_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    _big_company_extras(conn, args.database, big, ctx)
    if args.database == "sqlite":
        from tradecrm.core.search import fts_install_sql

        for s in index_sql:
            conn.execute(s)
        timings["interactions_indexes_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        for s in fts_install_sql(TABLE, "sqlite"):
            conn.execute(s)
        timings["interactions_search_index_s"] = round(time.perf_counter() - t, 1)
        conn.execute(f"UPDATE customers_company SET last_contact_at = (SELECT MAX(occurred_at) FROM {TABLE} i "
                     f"WHERE i.company_id = customers_company.id AND i.type NOT IN ('note', 'sample'))")  # fmt: skip
        conn.execute("ANALYZE")
        conn.execute("PRAGMA optimize")
        conn.execute("PRAGMA journal_mode=WAL")
    else:
        cur.execute("SET maintenance_work_mem = '1GB'")
        for s in index_sql:
            cur.execute(s)
        for name, definition in fks:
            cur.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        timings["interactions_indexes_s"] = round(time.perf_counter() - t, 1)
        cur.execute(
            f"UPDATE customers_company c SET last_contact_at = m.at FROM (SELECT company_id, MAX(occurred_at) at "
            f"FROM {TABLE} WHERE type NOT IN ('note', 'sample') GROUP BY company_id) m WHERE m.company_id = c.id"
        )
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), (SELECT MAX(id) FROM {TABLE}))")
        cur.execute("VACUUM ANALYZE")
    conn.close()
    timings["total_s"] = round(time.perf_counter() - t0, 1)
    return {"interactions": args.interactions, "companies": args.companies, "big_company": big, **timings}


def _sqlite_drop_indexes(conn) -> list[str]:
    from tradecrm.core.search import fts_drop_sql

    rows = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name = '{TABLE}'"
    ).fetchall()
    for name, _sql in rows:
        conn.execute(f'DROP INDEX "{name}"')
    for s in fts_drop_sql(TABLE, "sqlite"):
        conn.execute(s)
    return [s for _n, s in rows]


def _big_company_extras(conn, database: str, big: int, ctx: dict) -> None:
    """The 10,000-entry customer gets what makes a timeline page expensive: files on one entry in
    ten, colleagues on one in five, other contacts on one in ten."""
    r = random.Random(7)
    users = [u for u in set(ctx["owners"].values()) if u]
    who = [c[0] for c in ctx["contacts"].get(big, [])]
    stamp = _fmt(ctx["now"], database)
    attachments, participants, others = [], [], []
    stride = ctx["big_stride"]
    for iid in range(stride, stride * BIG_COMPANY_ROWS + 1, stride):
        if r.random() < 0.1:
            for k in range(r.choice((1, 1, 2))):
                attachments.append((iid, f"attachments/bench/{iid}-{k}.pdf", f"offer-{iid}-{k}.pdf", 123456,
                                    "application/pdf", "0" * 64, None, stamp))  # fmt: skip
        if r.random() < 0.2:
            participants.append((iid, r.choice(users)))
        if who and r.random() < 0.1:
            others.append((iid, r.choice(who)))
    rows = (
        ("interactions_attachment", ("interaction_id", "file", "name", "size", "content_type", "sha256",
                                     "uploaded_by_id", "uploaded_at"), attachments),
        ("interactions_interaction_participants", ("interaction_id", "user_id"), participants),
        ("interactions_interaction_contacts", ("interaction_id", "contact_id"), others),
    )  # fmt: skip
    if database == "sqlite":
        conn.execute("BEGIN")
        for table, cols, data in rows:
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", data
            )
        conn.execute("COMMIT")
    else:
        from tradecrm.customers.demo import _copy

        with conn.transaction():
            for table, cols, data in rows:
                _copy(conn.cursor(), table, cols, data)


def database_exists(database: str) -> bool:
    if database == "sqlite":
        return Path(_db_env("sqlite", 0)["TRADECRM_SQLITE_PATH"]).exists()
    import psycopg

    with psycopg.connect(f"{common.PG}/postgres", autocommit=True) as conn:
        return bool(
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [f"tradecrm_bench_timeline_{_LABEL}"]
            ).fetchone()
        )


# --- measurements --------------------------------------------------------------------------------

LATIN_TERMS = ("quotation", "ningbo", "solar inverter", "dhl", "brake pad", "private-label", "deposit received",
               "canton fair", "felixstowe", "automechanika", "zyxwvut")  # fmt: skip
CHINESE_TERMS = ("报价单", "太阳能逆变器", "不锈钢", "收到定金", "装柜", "刹车片", "汽车刹车片", "圣诞季")
SHORT_CJK_TERMS = ("宁波", "样品", "锂")  # 1-2 characters: the gram-token path


NEW_REP = "bench.newrep"


def _new_rep() -> None:
    """A rep who follows three customers and owns none: few visible entries among millions."""
    from tradecrm.accounts.models import Team, User
    from tradecrm.customers.models import Company, CompanyFollower

    if User.objects.filter(username=NEW_REP).exists():
        return
    user = User.objects.create(username=NEW_REP, role="sales", team=Team.objects.get(name="West"))
    ids = list(Company.objects.order_by("id").values_list("id", flat=True)[500:50000:20000])
    CompanyFollower.objects.bulk_create([CompanyFollower(company_id=i, user=user) for i in ids])


def measure_timeline(requests: int) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tradecrm.accounts.models import User
    from tradecrm.customers.models import Company
    from tradecrm.interactions.models import Interaction

    settings.ALLOWED_HOSTS = ["*"]
    sales = User.objects.get(username=common.PERSONAS["sales"])
    big = Company.objects.filter(owner=sales).order_by("id").values_list("id", flat=True).first()
    entries = Interaction.objects.filter(company_id=big).count()
    client = Client()
    client.force_login(sales)
    url = f"/customers/{big}/timeline/"
    for _ in range(5):
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, HTTP_HX_REQUEST="true")
    queries = len(ctx.captured_queries)
    query_sql = [q["sql"][:100] for q in ctx.captured_queries]
    shown = response.content.decode().count('data-testid="timeline-entry"')
    samples = []
    for _ in range(requests):
        t = time.perf_counter()
        r = client.get(url, HTTP_HX_REQUEST="true")
        samples.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    # the next pages cost what the first does (keyset): one deep page for the record
    from tradecrm.interactions import selectors

    cursor = None
    company = Company.objects.get(pk=big)
    for _ in range(50):
        _rows, cursor, _p = selectors.company_timeline(sales, company, cursor=cursor)
    deep = []
    for _ in range(max(10, requests // 5)):
        t = time.perf_counter()
        client.get(f"{url}?cursor={cursor}", HTTP_HX_REQUEST="true")
        deep.append((time.perf_counter() - t) * 1000)
    return {
        "company_entries": entries,
        "entries_on_page": shown,
        "queries": queries,
        "queries_target": 6,
        "query_starts": query_sql,
        "first_page": common.percentiles(samples),
        "page_51": common.percentiles(deep),
        "target_p50_ms": 30,
    }


def measure_search(runs: int) -> dict:
    from django.db import connection

    from tradecrm.accounts.models import User
    from tradecrm.interactions import selectors

    out: dict = {}
    _new_rep()
    for role in ("sales", "manager", "admin", "new_rep"):
        user = User.objects.get(username=NEW_REP if role == "new_rep" else common.PERSONAS[role])
        per_role: dict = {}
        for group, terms in (
            ("latin", LATIN_TERMS),
            ("chinese", CHINESE_TERMS),
            ("cjk_1_2_chars", SHORT_CJK_TERMS),
        ):
            samples, per_term = [], {}
            for term in terms:
                user = User.objects.get(pk=user.pk)  # no cached team ids across terms
                t = time.perf_counter()  # the first search of a term: its index pages may be cold
                rows, _n, _p = selectors.timeline_search(user, term, limit=30)
                first = (time.perf_counter() - t) * 1000
                mine = []
                for _ in range(runs):
                    t = time.perf_counter()
                    rows, _n, _p = selectors.timeline_search(user, term, limit=30)
                    mine.append((time.perf_counter() - t) * 1000)
                samples += mine
                stats = common.percentiles(mine)
                per_term[term] = {
                    "hits_on_page": len(rows),
                    "first_ms": round(first, 3),
                    "p50_ms": stats["p50_ms"],
                    "p95_ms": stats["p95_ms"],
                }
            per_role[group] = {"all": common.percentiles(samples), "terms": per_term}
        out[role] = per_role
    out["target_p95_ms"] = 50
    out["vendor"] = connection.vendor
    out["http_page"] = _measure_search_page(runs)
    return out


def _measure_search_page(runs: int) -> dict:
    """The whole search page (GET /timeline/search/?q=…) through the test Client, per persona."""
    from django.conf import settings
    from django.test import Client, override_settings

    from tradecrm.accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    # pages link static files; without collectstatic there is no manifest to look them up in
    static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    static.enable()
    out = {}
    for role in ("sales", "manager"):
        client = Client()
        client.force_login(User.objects.get(username=common.PERSONAS[role]))
        samples = []
        for term in ("quotation", "报价单"):
            client.get("/timeline/search/", {"q": term})
            for _ in range(runs):
                t = time.perf_counter()
                assert client.get("/timeline/search/", {"q": term}).status_code == 200
                samples.append((time.perf_counter() - t) * 1000)
        out[role] = common.percentiles(samples)
    static.disable()
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--interactions", type=int, default=5_000_000)
    p.add_argument("--companies", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    p.add_argument("--requests", type=int, default=60, help="timeline requests to time (>= 50)")
    p.add_argument("--runs", type=int, default=20, help="timed searches per term and persona")
    p.add_argument("--rebuild", action="store_true", help="build the bench database even if it exists")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--save", action="store_true", help="write bench/results/timeline-<database>.json")
    args = p.parse_args(argv)
    _use_own_database(common.size_label(args.interactions))
    result: dict = {"benchmark": "timeline", "database": args.database, "interactions": args.interactions}
    if args.rebuild or not database_exists(args.database):
        result["build"] = build_database(args)
    else:
        common.setup_django(args.database, args.companies)
        result["build"] = {"cached": True}
    from django.db import connection

    connection.ensure_connection()
    result["timeline"] = measure_timeline(args.requests)
    result["search"] = measure_search(args.runs)
    result["machine"] = common.machine()
    if args.save:
        common.save(f"timeline-{args.database}", result)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return result


if __name__ == "__main__":
    main()
