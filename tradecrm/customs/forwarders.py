"""Is a consignee name a buyer? Customs records often name a freight forwarder, an NVOCC, a customs
broker or a carrier as consignee, or no real party at all ("TO ORDER", "TO THE ORDER OF HSBC
BANK", "N/A"). Such a record must not create or be linked to a customer: the forwarder is not the
one who buys.

`consignee_kind(name)` says which of these a name is ("forwarder", "to_order", "placeholder") or
"" for an ordinary company name; `is_forwarder(name)` is True for any of the three.

Recognition works on a folded name (NFKC, case-folded, accents stripped, punctuation as spaces):
- whole words and word stems of the trade in many languages (logistics / Logistik / logística /
  lojistik / логистика, freight, forwarding, Spedition, transitaire, cargo / carga / kargo,
  customs broker / despachante / agente aduanal, transport / nakliyat / vận tải …);
- the big forwarders, NVOCCs and carriers by name (Kuehne + Nagel, DB Schenker, DSV, Maersk …),
  only where the name is not also an ordinary buyer's (so no "MSC", "CEVA", "UPS", "TNT");
- substrings in scripts written without spaces: Chinese 物流, 货运代理, 货代, 船务, 报关, 供应链
  (in Chinese trade data a 供应链 company is the import agent), Japanese 運輸/海運/通関, Korean
  물류/해운/통관, Thai, Arabic.
Words that also name buyers ("express", "warehouse", "maritime", "expedition", "lines") are left
out on purpose: a missed forwarder costs one extra prospect, a buyer taken for a forwarder is lost.
"""

from __future__ import annotations

import functools
import re
import unicodedata

FORWARDER = "forwarder"
TO_ORDER = "to_order"
PLACEHOLDER = "placeholder"

# Stems: a word starting with one of these (on the folded, accent-free name).
_STEMS = (
    r"logisti", r"lojisti", r"logiszti", r"logistyk",
    r"freight", r"forwarding", r"forwarder", r"fowarding",
    r"spedition", r"spediteur", r"spedizion", r"speditor", r"speditør", r"spedycj", r"spedycyjn", r"spedice",
    r"transitair", r"transitari", r"expeditie", r"affretement", r"affreteur",
    r"cargo", r"carga", r"kargo", r"nvocc",
    r"shipping", r"shippers", r"shipagency",
    r"transport", r"trasport", r"nakliy", r"tasimacilik", r"vervoer",
    r"haulage", r"haulier", r"trucking", r"drayage", r"intermodal", r"courier", r"kurier",
    r"despachante", r"aduanal", r"aduanera", r"gumruk", r"zollagentur", r"douane",
    r"consolidator",
    r"логисти", r"экспеди", r"транспорт", r"перевоз", r"карго", r"таможен",
    r"ekspedisi",
)  # fmt: skip

# Phrases: these words in this order, as whole words.
_PHRASES = (
    "supply chain", "fret", "frete", "nvo", "3pl", "customs broker", "customs brokers", "customs brokerage", "customs clearance",
    "customs agent", "customs agency", "customs house", "clearing agent", "clearing agents",
    "ship agency", "shipping agency", "container line", "container lines", "containerline",
    "agente de aduanas", "agencia de aduanas", "despachos aduaneros", "giao nhan", "van tai", "van chuyen",
    # forwarders, NVOCCs and carriers by name
    "dhl", "kuehne nagel", "kuhne nagel", "kuehne und nagel", "schenker", "dsv", "expeditors", "panalpina",
    "nippon express", "kintetsu world express", "geodis", "yusen", "sinotrans", "cosco", "maersk", "damco",
    "cma cgm", "hapag lloyd", "evergreen marine", "evergreen line", "oocl", "yang ming", "wan hai",
    "ocean network express", "zim integrated", "fedex", "tnt express", "ups supply chain",
    "united parcel service", "c h robinson", "ch robinson", "flexport", "dachser", "rhenus", "pantos",
    "shipco", "ecu worldwide", "carotrans", "topocean", "honour lane", "hillebrand", "leschaco",
    "toll global", "crane worldwide", "scan global", "pudong trans", "apl logistics",
)  # fmt: skip

# Substrings for scripts written without spaces between words.
_SUBSTRINGS = (
    "物流", "货运", "貨運", "货代", "貨代", "船务", "船務", "船代", "报关", "報關", "通关", "通關", "供应链",
    "供應鏈", "快递", "快遞", "速运", "速運", "航运", "航運", "海运", "海運", "空运", "空運", "运输", "運輸",
    "仓储", "倉儲", "集运", "集運", "外运", "外運", "通運", "運送", "通関", "ロジスティクス", "フォワーディング",
    "물류", "해운", "로지스틱", "운송", "포워딩", "통관", "โลจิสติกส์", "ขนส่ง", "لوجست", "شحن",
)  # fmt: skip

# "TO ORDER" at the start, "to the order of" anywhere ("MADE TO ORDER FURNITURE" is a buyer), or a bank:
# under a letter of credit the goods are consigned to the issuing bank, not to the buyer.
_TO_ORDER = re.compile(
    r"^(?:un)?to\s+(?:the\s+)?order\b|^order(?:\s+of\b|$)|\bto\s+(?:the\s+)?order\s+of\b"
    r"|\border\s+of\s+(?:the\s+)?shipper\b"
    r"|\bbank(?:$|\s+(?:of|ag|plc|ltd|limited|n\s?a|s\s?a|corp|corporation|berhad|bhd|nv|spa|co|middle|hong)\b)"
    r"|^(?:banco|banque|banca)\s"
)
_TO_ORDER_CJK = ("凭指示", "憑指示", "银行", "銀行", "은행")

_PLACEHOLDERS = frozenset(
    {
        "", "na", "n a", "none", "null", "nil", "unknown", "not available", "not declared", "not disclosed",
        "undisclosed", "confidential", "tba", "tbd", "various", "same as consignee", "same as notify party",
        "same as above", "to be advised", "consignee", "importer", "无", "无名", "未知", "保密", "不详",
    }
)  # fmt: skip


def fold(name: str) -> str:
    """Lower case, full-width to ASCII, accents stripped, anything but letters and digits as one
    space. Scripts without accents (CJK, Cyrillic, Thai…) keep their letters."""
    text = unicodedata.normalize("NFKC", name or "").casefold().replace("ı", "i")
    text = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            out.append(ch)
        elif cat == "Mn":
            continue  # combining accent
        else:
            out.append(" ")
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


_MATCHERS = [
    re.compile(r"(?<!\w)(?:" + "|".join(re.escape(s) for s in _STEMS) + r")\w*"),
    re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in _PHRASES) + r")(?!\w)"),
]


@functools.lru_cache(maxsize=65536)
def consignee_kind(name: str) -> str:
    """ "forwarder", "to_order", "placeholder", or "" when the name may be a buyer."""
    folded = fold(name)
    if folded in _PLACEHOLDERS or not any(ch.isalnum() for ch in folded):
        return PLACEHOLDER
    if _TO_ORDER.search(folded) or any(s in folded for s in _TO_ORDER_CJK):
        return TO_ORDER
    if any(m.search(folded) for m in _MATCHERS) or any(s in folded for s in _SUBSTRINGS):
        return FORWARDER
    return ""


def is_forwarder(name: str) -> bool:
    """True when the consignee is not a buyer: a forwarder / NVOCC / logistics company, a "to
    order" consignee (a bank, "TO ORDER OF SHIPPER") or a placeholder ("N/A")."""
    return consignee_kind(name) != ""
