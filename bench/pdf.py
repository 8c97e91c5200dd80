"""PDF rendering of trade documents: Django template → WeasyPrint (tradecrm/documents/pdf.py).

    .venv/bin/python bench/pdf.py [--template documents/pdf/base.html] [--lines 200]
                                  [--no-packing] [--no-spec] [--repeat 15] [--repeat-short 30]
                                  [--variants] [--save]

Two documents through the engine (render_pdf: template + translation + WeasyPrint):
  long   a quotation-like document of --lines lines, language zh-hans — target ≤ 1 s: each line has
         a SKU, a Chinese + English name and a Chinese spec line (--no-spec: none), discount and
         packing columns (cartons, G.W., CBM; --no-packing: without them, 7 columns instead of 10)
  short  a one-page proforma-invoice-like document (6 lines, deposit/balance), bilingual — target ≤ 500 ms
Each repetition is timed whole (wall clock, and `cpu`: this process's CPU time, less disturbed by
other work on a shared machine) and split into the HTML (Django template) part and the PDF
(WeasyPrint) part. One warm-up render of each first; `first_render_ms` is the very first one in
the process (WeasyPrint import, fontconfig and the CJK font files loaded).

--variants also times the long document with WeasyPrint's full HTML5 user-agent stylesheet and/or
`table-layout: auto` without the <colgroup> and without `overflow-wrap: anywhere` (the HTML is
rewritten after the template), round-robin with the shipped setting so that machine noise hits them
alike (WeasyPrint part only, CPU time).
Prints JSON; --save writes bench/results/pdf.json. `--template` points at another layout that
follows the context contract of tradecrm/documents/pdf.py (e.g. the real quotation template).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

WORDS = [
    ("LED灯管", "LED tube"),
    ("面板灯", "panel light"),
    ("筒灯", "downlight"),
    ("投光灯", "flood light"),
    ("路灯", "street light"),
    ("工矿灯", "high bay"),
    ("吸顶灯", "ceiling light"),
    ("防水灯", "vapor-tight light"),
    ("应急灯", "emergency light"),
    ("太阳能庭院灯", "solar garden light"),
]
SPECS = [
    "色温6500K，光通量1800流明，磨砂罩，质保三年",
    "色温4000K，显色指数大于80，铝合金外壳，防护等级IP65",
    "暖白光3000K，可调光，配快速接头，出口纸箱包装",
    "铝基板，恒流驱动，功率因数大于0.9，通过CE与RoHS认证",
    "高透光PC罩，防眩光设计，适用于超市、仓库与停车场",
]


def long_context(lines: int, *, packing: bool = True, spec: bool = True) -> dict:
    from tradecrm.documents import pdf

    ctx = pdf.sample_context()
    rows = []
    for i in range(lines):
        zh, en = WORDS[i % len(WORDS)]
        watt = 9 + (i * 7) % 150
        q = Decimal(100 + (i * 37) % 5000)
        price = (Decimal(150 + (i * 113) % 4000) / 100).quantize(Decimal("0.01"))
        rows.append(
            {
                "no": i + 1,
                "sku": f"BW-{i + 1:04d}-{watt}W",
                "name": f"{zh} {watt}瓦 / {en} {watt}W",
                "spec": SPECS[i % len(SPECS)] if spec else "",
                "hs_code": "9405.11" if i % 3 else "8539.52",
                "qty": q,
                "unit": "件",
                "unit_price": price,
                "discount": Decimal(i % 4 * 2) or None,
                "amount": q * price,
                "cartons": int(q // 24) + 1,
                "gw": Decimal(int(q) * 3) / 10,
                "cbm": Decimal(int(q) * 7) / 1000,
            }
        )
    ctx["lines"] = rows
    ctx["doc"] = {**ctx["doc"], "title": "报价单", "number": "QT-2025-0200", "show_packing": packing}
    total = sum(r["amount"] for r in rows)
    ctx["totals"] = {**ctx["totals"], "subtotal": total, "total": total, "deposit": None, "balance": None}
    return ctx


def short_context() -> dict:
    from tradecrm.documents import pdf

    ctx = pdf.sample_context()
    base = ctx["lines"]
    ctx["lines"] = [{**base[i % 2], "no": i + 1} for i in range(6)]
    ctx["doc"] = {**ctx["doc"], "title": "Proforma Invoice", "number": "PI-2025-0042", "show_discount": False}
    return ctx


def to_auto_layout(html: str) -> str:
    """The same document as WeasyPrint lays out a plain table: auto layout, no column widths."""
    html = re.sub(r"<colgroup>.*?</colgroup>", "", html, flags=re.S)
    html = html.replace("overflow-wrap: anywhere", "overflow-wrap: normal")
    return re.sub(r"(\.lines \{[^}]*?)table-layout: fixed", r"\1table-layout: auto", html)


def page_count(data: bytes) -> int | None:
    try:
        import pypdfium2
    except ImportError:
        return None
    doc = pypdfium2.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--template", default="documents/pdf/base.html")
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=15, help="repetitions of the long document")
    ap.add_argument("--repeat-short", type=int, default=30, help="repetitions of the one-page document")
    ap.add_argument("--packing", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--spec", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--variants", action="store_true", help="also full UA sheet / auto table layout")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()

    os.environ.setdefault("TRADECRM_DATA_DIR", str(common.BENCH_DIR / "data"))
    os.environ.setdefault("TRADECRM_LOG_LEVEL", "ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    common.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if str(common.ROOT) not in sys.path:
        sys.path.insert(0, str(common.ROOT))
    import django

    django.setup()
    from tradecrm.documents import pdf

    docs = {
        "long": (long_context(args.lines, packing=args.packing, spec=args.spec), "zh-hans", args.repeat),
        "short": (short_context(), "bilingual", args.repeat_short),
    }

    t0 = time.perf_counter()
    pdf.render_pdf(args.template, docs["short"][0], language="bilingual")
    first_ms = (time.perf_counter() - t0) * 1000

    result: dict = {
        "bench": "pdf",
        "options": {"lines": args.lines, "packing": args.packing, "spec": args.spec},
        "machine": common.machine(),
        "template": args.template,
        "loadavg_at_start": os.getloadavg(),
        "first_render_ms": round(first_ms, 1),
        "documents": {},
    }
    for name, (ctx, language, repeat) in docs.items():
        pdf.render_pdf(args.template, ctx, language=language)  # warm-up
        totals, cpus, htmls, pdfs = [], [], [], []
        data = b""
        for _ in range(repeat):
            c = time.process_time()
            t = time.perf_counter()
            html = pdf.render_html(args.template, ctx, language=language)
            t_html = time.perf_counter()
            data = pdf.html_to_pdf(html)
            t_end = time.perf_counter()
            cpus.append((time.process_time() - c) * 1000)
            totals.append((t_end - t) * 1000)
            htmls.append((t_html - t) * 1000)
            pdfs.append((t_end - t_html) * 1000)
        result["documents"][name] = {
            "language": language,
            "lines": len(ctx["lines"]),
            "pages": page_count(data),
            "bytes": len(data),
            "total": common.percentiles(totals),
            "cpu": common.percentiles(cpus),
            "html": common.percentiles(htmls),
            "weasyprint": common.percentiles(pdfs),
        }
        print(f"{name}: p50 {result['documents'][name]['total']['p50_ms']} ms", file=sys.stderr)

    if args.variants:
        ctx, language, repeat = docs["long"]
        html_fixed = pdf.render_html(args.template, ctx, language=language)
        html_auto = to_auto_layout(html_fixed)
        variants = {
            "lean_ua_fixed_layout": (html_fixed, True),
            "full_ua_fixed_layout": (html_fixed, False),
            "lean_ua_auto_layout": (html_auto, True),
            "full_ua_auto_layout": (html_auto, False),
        }
        samples: dict[str, list[float]] = {k: [] for k in variants}
        pages: dict[str, int | None] = {}
        for key, (html, lean) in variants.items():  # warm-up
            pages[key] = page_count(pdf.html_to_pdf(html, lean_ua=lean))
        for _ in range(repeat):
            for key, (html, lean) in variants.items():
                c = time.process_time()
                pdf.html_to_pdf(html, lean_ua=lean)
                samples[key].append((time.process_time() - c) * 1000)
        result["variants_long_weasyprint_cpu"] = {
            k: {"pages": pages[k], **common.percentiles(v)} for k, v in samples.items()
        }

    result["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.save:
        print(f"saved {common.save('pdf', result)}", file=sys.stderr)


if __name__ == "__main__":
    main()
