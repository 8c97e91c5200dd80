"""PDFs of real documents through the real services and templates (print_services.document_pdf).

    .venv/bin/python bench/document_pdf.py [--lines 200] [--repeat 15] [--repeat-short 30] [--save]

Builds a scratch SQLite database (var/bench/document_pdf.sqlite3, made again each run), and in it,
through the services: a seller with Chinese letterhead and a USD bank account, `--lines` products
(Chinese and English names, a Chinese specification, HS code, carton packing), and
  long   an issued quotation of `--lines` lines in Chinese (zh-hans) — target ≤ 1 s
  short  an issued one-page proforma invoice of 6 lines with deposit and balance, bilingual —
         target ≤ 500 ms
Then times `document_pdf(document, language=…)` with the PDF cache bypassed (every call renders:
snapshot → context adapter → template → WeasyPrint), after one warm-up each. Wall time and this
process's CPU time (less disturbed by other work on a shared machine). `first_render_ms`: the very
first PDF of the process (WeasyPrint import, fontconfig, CJK font files). Prints JSON; --save
writes bench/results/document_pdf.json.

bench/pdf.py measures the engine alone (any template, synthetic context); this one the whole path
a download takes, minus the HTTP layer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

WORDS = [
    ("LED灯管", "LED tube"), ("面板灯", "panel light"), ("筒灯", "downlight"), ("投光灯", "flood light"),
    ("路灯", "street light"), ("工矿灯", "high bay"), ("吸顶灯", "ceiling light"), ("防水灯", "vapor-tight light"),
    ("应急灯", "emergency light"), ("太阳能庭院灯", "solar garden light"),
]  # fmt: skip
SPECS = [
    "色温6500K，光通量1800流明，磨砂罩，质保三年",
    "色温4000K，显色指数大于80，铝合金外壳，防护等级IP65",
    "暖白光3000K，可调光，配快速接头，出口纸箱包装",
    "铝基板，恒流驱动，功率因数大于0.9，通过CE与RoHS认证",
    "高透光PC罩，防眩光设计，适用于超市、仓库与停车场",
]


def prepare_database() -> Path:
    common.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = common.BENCH_DIR / "document_pdf.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = ""
    os.environ["TRADECRM_SQLITE_PATH"] = str(path)
    os.environ["TRADECRM_DATA_DIR"] = str(common.BENCH_DIR / "data-document-pdf")
    os.environ.setdefault("TRADECRM_LOG_LEVEL", "ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(common.ROOT) not in sys.path:
        sys.path.insert(0, str(common.ROOT))
    return path


def build_documents(lines: int):
    """(issued quotation of `lines` lines in Chinese, issued 6-line proforma invoice, bilingual)."""
    from django.conf import settings
    from django.core.management import call_command

    from tradecrm.accounts.models import Team, User
    from tradecrm.catalog.services import product_create
    from tradecrm.core.models import ExchangeRate
    from tradecrm.customers.services import company_create
    from tradecrm.documents import print_services
    from tradecrm.documents.services import proforma_create, proforma_issue, quotation_create, quotation_issue

    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="Bench")
    admin = User.objects.create(username="bench.admin", role="admin", team=None, is_staff=True, first_name="Li",
                                last_name="Wei", timezone="Asia/Shanghai")  # fmt: skip
    rep = User.objects.create(username="bench.sales", role="sales", team=team, first_name="Alice", last_name="Wang",
                              timezone="Asia/Shanghai")  # fmt: skip
    today = dt.date.today()
    base = settings.TRADECRM_BASE_CURRENCY
    for code, rate in (("USD", "1"), ("CNY", "7.1"), ("EUR", "0.92")):
        if code != base:
            ExchangeRate.objects.create(base=base, quote=code, date=today - dt.timedelta(days=1), rate=Decimal(rate),
                                        source="bench")  # fmt: skip
    seller = print_services.seller_create(actor=admin, data={
        "name_en": "Ningbo Brightway Lighting Co., Ltd.", "name_zh": "宁波明途照明有限公司",
        "address_en": "No. 88 Jiangnan Road, Yinzhou District, Ningbo, Zhejiang, China",
        "address_zh": "浙江省宁波市鄞州区江南路88号", "phone": "+86 574 8888 1234", "email": "sales@brightway.example",
        "website": "www.brightway.example", "tax_id": "91330200MA2XXXXX1Y"})  # fmt: skip
    print_services.bank_account_create(actor=admin, seller=seller, data={
        "currency": "USD", "beneficiary": "Ningbo Brightway Lighting Co., Ltd.",
        "beneficiary_address": "No. 88 Jiangnan Road, Ningbo, China", "bank_name": "Bank of China, Ningbo Branch",
        "bank_address": "139 Yaohang Street, Ningbo, China", "swift": "BKCHCNBJ92A",
        "account_number": "3581 0000 1234 5678"})  # fmt: skip
    company = company_create(actor=rep, data={"name": "Lumen Supply LLC", "name_local": "卢门供应", "country": "US",
                                              "city": "Chicago", "address": "1200 W Lake St", "currency": "USD"})  # fmt: skip
    products = []
    for i in range(lines):
        zh, en = WORDS[i % len(WORDS)]
        watt = 9 + (i * 7) % 150
        products.append(product_create(actor=admin, data={
            "sku": f"BW-{i + 1:04d}-{watt}W", "name_en": f"{en} {watt}W", "name_zh": f"{zh} {watt}瓦",
            "specification": SPECS[i % len(SPECS)], "hs_code": "9405.11" if i % 3 else "8539.52", "unit": "pcs",
            "units_per_carton": 24, "carton_gross_weight_kg": "12.5", "carton_net_weight_kg": "11",
            "carton_cbm": "0.0625"}))  # fmt: skip
    terms = {
        "incoterm": "FOB", "incoterm_place": "Ningbo", "port_of_loading": "Ningbo, China",
        "port_of_destination": "Chicago, USA", "payment_terms": "tt_deposit", "deposit_percent": "30",
        "lead_time_days": "35", "shipping_marks": "LUMEN / CHICAGO / C/NO. 1-UP",
        "packing_notes": "Export carton, 24 pcs per carton", "remarks": "Prices valid for the quantities above.",
    }  # fmt: skip
    rows = [
        {"product": p.pk, "quantity": str(100 + (i * 37) % 5000),
         "unit_price": str((Decimal(150 + (i * 113) % 4000) / 100).quantize(Decimal("0.01"))),
         "discount_percent": str(i % 4 * 2)}
        for i, p in enumerate(products)
    ]  # fmt: skip
    q = quotation_create(actor=rep, company=company, data={**terms, "language": "zh-hans"}, lines=rows)
    q = quotation_issue(actor=rep, quotation=q, version=q.version)
    pi = proforma_create(actor=rep, company=company, data={**terms, "language": "bilingual"}, lines=rows[:6])
    pi = proforma_issue(actor=rep, proforma=pi, version=pi.version)
    return q, pi


def page_count(data: bytes) -> int:
    import pypdfium2

    doc = pypdfium2.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=15, help="repetitions of the long quotation")
    ap.add_argument(
        "--repeat-short", type=int, default=30, help="repetitions of the one-page proforma invoice"
    )
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()

    prepare_database()
    import django

    django.setup()
    from tradecrm.documents import pdf, print_services

    t0 = time.perf_counter()
    quotation, proforma = build_documents(args.lines)
    setup_s = time.perf_counter() - t0
    # The cache bypassed: every call renders (an issued document is otherwise rendered once).
    pdf.cached_pdf = lambda key, build: build()

    docs = {
        "long": (quotation, "zh-hans", args.repeat),
        "short": (proforma, "bilingual", args.repeat_short),
    }
    t0 = time.perf_counter()
    print_services.document_pdf(proforma, language="bilingual")
    first_ms = (time.perf_counter() - t0) * 1000
    result: dict = {
        "bench": "document_pdf",
        "command": "bench/document_pdf.py " + " ".join(sys.argv[1:]),
        "machine": common.machine(),
        "targets_ms": {"long": 1000, "short": 500},
        "setup_s": round(setup_s, 1),
        "loadavg_at_start": os.getloadavg(),
        "first_render_ms": round(first_ms, 1),
        "documents": {},
    }
    for name, (document, language, repeat) in docs.items():
        data = print_services.document_pdf(document, language=language)  # warm-up
        walls, cpus = [], []
        for _ in range(repeat):
            c = time.process_time()
            t = time.perf_counter()
            data = print_services.document_pdf(document, language=language)
            walls.append((time.perf_counter() - t) * 1000)
            cpus.append((time.process_time() - c) * 1000)
        result["documents"][name] = {
            "kind": print_services.document_kind(document),
            "number": document.number,
            "language": language,
            "lines": document.lines.count(),
            "pages": page_count(data),
            "bytes": len(data),
            "wall": common.percentiles(walls),
            "cpu": common.percentiles(cpus),
        }
        print(f"{name}: wall p50 {result['documents'][name]['wall']['p50_ms']} ms, "
              f"cpu p50 {result['documents'][name]['cpu']['p50_ms']} ms", file=sys.stderr)  # fmt: skip
    result["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.save:
        print(f"saved {common.save('document_pdf', result)}", file=sys.stderr)


if __name__ == "__main__":
    main()
