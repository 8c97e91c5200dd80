"""Which file column goes to which field: the targets of each entity, the header names each one
answers to (English and Chinese variants written here, the source's own names from sources.py,
and every model field's verbose name in English and in Chinese, so a TradeCRM export in either
language maps back), automatic mapping, saved mappings by header text, and mapping checks.

Headers are compared by a key: NFKC (full-width → ASCII), lower case, spaces and punctuation
dropped — "E-mail", "EMAIL", "e_mail" and "Ｅｍａｉｌ" are one key. A header not found as it is
is tried without a bracketed part or a unit ("Weight (KG)", "金额（美元）"), without a number for
fields that take several columns ("Phone 2"), and finally by a close spelling ("Adress").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz, process

from tradecrm.catalog.spreadsheets import CARTON_SIZE, PRODUCT_COLUMNS, header_key

from .sources import ENTITIES, get_source


@dataclass(frozen=True)
class Target:
    field: str
    label: Promise
    kind: str  # text|email|phone|country|date|number|list|choice|id|user|tags|url|currency|language|timezone|bool
    multiple: bool  # may be mapped from several columns (phones, emails, tags, notes)
    aliases: tuple[str, ...]
    # For a choice: where a value that is none of the choices goes instead of being refused
    # ("Canton Fair 2024" in a "Source" column → source detail).
    fallback: str = ""


def normalize_header(text) -> str:
    return header_key(text)


# --- the targets ------------------------------------------------------------------------------------
# (field, label, kind, multiple, aliases); the label None takes the model field's verbose name.

_COMPANY = [
    ("name", None, "text", False, (
        "company", "company name", "company name (english)", "english company name", "name", "account",
        "account name", "organization", "organisation", "organization name", "business name", "customer",
        "customer name", "client", "client name", "buyer company", "importer", "consignee", "firm",
        "公司", "公司名称", "公司名", "企业名称", "企业", "客户", "客户名称", "客户名", "单位", "单位名称",
        "英文公司名", "公司英文名", "公司英文名称", "英文名称", "买家公司", "采购商", "进口商", "收货人",
        "客户公司")),
    ("name_local", None, "text", False, (
        "local name", "name (local)", "native name", "company name (local)", "company name (chinese)",
        "chinese company name", "chinese name", "中文名", "中文名称", "公司中文名", "中文公司名",
        "公司中文名称", "本地名称", "当地语言名称")),
    ("country", None, "country", False, (
        "country", "country/region", "country or region", "nation", "country code", "billing country",
        "国家", "国家/地区", "国家地区", "地区", "国别", "所在国家", "所在国家/地区")),
    ("city", None, "text", False, ("city", "town", "billing city", "城市", "所在城市", "市")),
    ("address", None, "text", False, (
        "address", "street", "street address", "full address", "company address", "billing address",
        "billing street", "mailing address", "地址", "公司地址", "详细地址", "联系地址", "通讯地址")),
    ("website", None, "url", False, (
        "website", "web site", "web", "url", "homepage", "home page", "site", "domain", "web page",
        "company website", "company domain name", "网址", "网站", "公司网站", "官网", "主页", "公司网址")),
    ("email", None, "email", False, (
        "email", "e-mail", "email address", "e-mail address", "mail", "company email", "general email",
        "邮箱", "电子邮箱", "电子邮件", "邮件", "公司邮箱", "邮箱地址", "email/e-mail")),
    ("phones", None, "phone", True, (
        "phone", "phones", "tel", "tel.", "telephone", "phone number", "tel no", "telephone number",
        "company phone", "office phone", "business phone", "landline", "fax", "fax number", "phone/fax",
        "电话", "电话号码", "联系电话", "座机", "公司电话", "固定电话", "传真", "电话/传真", "办公电话")),
    ("industry", None, "text", False, (
        "industry", "sector", "industry sector", "行业", "所属行业", "行业类别", "行业分类")),
    ("business_type", None, "choice", False, (
        "business type", "company type", "type of business", "buyer type", "account type", "customer type",
        "企业类型", "公司类型", "客户类型", "经营模式", "公司性质", "企业性质")),
    ("company_size", None, "choice", False, (
        "company size", "size", "employees", "number of employees", "no. of employees", "headcount",
        "公司规模", "规模", "员工人数", "人数", "企业规模")),
    ("annual_purchase", None, "choice", False, (
        "annual purchase", "annual purchase volume", "purchase volume", "annual purchasing",
        "annual purchases", "年采购额", "年采购量", "采购额", "年采购金额")),
    ("main_products", None, "text", False, (
        "main products", "products", "product", "interested products", "product interest", "main product",
        "主营产品", "主要产品", "产品", "经营产品", "意向产品", "感兴趣产品", "主营", "采购产品")),
    ("hs_codes", None, "list", True, (
        "hs codes", "hs code", "hs", "hscode", "hs codes of interest", "海关编码", "hs编码", "商品编码")),
    ("source", None, "choice", False, (
        "source", "lead source", "customer source", "来源", "客户来源", "线索来源")),
    ("source_detail", None, "text", False, (
        "source detail", "source details", "channel", "campaign", "show", "exhibition", "event", "fair",
        "来源详情", "渠道", "获客渠道", "展会", "展会名称", "来源说明")),
    ("timezone", None, "timezone", False, ("timezone", "time zone", "tz", "时区")),
    ("preferred_language", None, "language", False, (
        "language", "preferred language", "语言", "首选语言", "沟通语言")),
    ("currency", None, "currency", False, (
        "currency", "settlement currency", "币种", "结算币种", "货币", "结算货币")),
    ("credit_rating", None, "choice", False, (
        "credit rating", "credit", "credit grade", "信用等级", "信用评级", "信用")),
    ("cooperation_since", None, "date", False, (
        "cooperation since", "cooperating since", "customer since", "client since", "first order date",
        "合作时间", "开始合作时间", "开始合作日期", "合作开始时间", "合作日期")),
    ("status", None, "choice", False, (
        "status", "lifecycle status", "stage", "customer stage", "lead status", "customer status",
        "客户阶段", "客户状态", "状态", "阶段")),
    ("notes", None, "text", True, (
        "notes", "note", "remarks", "remark", "comments", "comment", "description", "memo", "additional info",
        "备注", "说明", "留言", "描述", "备忘", "备注信息", "其他")),
    ("tax_id", None, "text", False, (
        "tax id", "vat", "vat number", "vat no", "vat id", "vat reg no", "tax number", "tin", "ein",
        "tax / vat number", "税号", "纳税人识别号", "统一社会信用代码", "信用代码", "增值税号", "税务登记号")),
    ("tags", gettext_lazy("tags"), "tags", True, ("tags", "tag", "labels", "label", "标签", "客户标签")),
    ("owner", None, "user", False, (
        "owner", "account owner", "sales rep", "salesperson", "sales person", "sales", "assigned to",
        "responsible", "负责人", "业务员", "销售", "跟进人", "所属销售", "客户经理", "归属人", "所属业务员")),
    ("id", gettext_lazy("ID (TradeCRM)"), "id", False, ("tradecrm id",)),
    ("contact_first_name", gettext_lazy("Contact: first name"), "text", False, (
        "first name", "firstname", "given name", "contact first name", "名")),
    ("contact_last_name", gettext_lazy("Contact: last name"), "text", False, (
        "last name", "lastname", "surname", "family name", "contact last name", "姓")),
    ("contact_name", gettext_lazy("Contact: full name"), "text", False, (
        "contact", "contact name", "contact person", "contacts", "name of contact", "person", "attn",
        "full name", "buyer name", "联系人", "联系人姓名", "姓名", "名字", "联络人", "联系人名称")),
    ("contact_name_local", gettext_lazy("Contact: name in local script"), "text", False, (
        "contact name (local)", "contact chinese name", "联系人中文名", "中文姓名", "联系人中文姓名")),
    ("contact_title", gettext_lazy("Contact: job title"), "text", False, (
        "title", "job title", "position", "designation", "role", "contact title", "职位", "职务", "头衔",
        "岗位")),
    ("contact_email", gettext_lazy("Contact: email"), "email", False, (
        "contact email", "contact e-mail", "personal email", "联系人邮箱", "联系人电子邮箱", "个人邮箱")),
    ("contact_phone", gettext_lazy("Contact: phone"), "phone", False, (
        "contact phone", "contact tel", "direct phone", "direct line", "联系人电话", "直线电话")),
    ("contact_mobile", gettext_lazy("Contact: mobile"), "phone", False, (
        "mobile", "mobile phone", "mobile number", "cell", "cell phone", "cellphone", "handy",
        "手机", "手机号", "手机号码", "移动电话", "联系人手机")),
    ("contact_whatsapp", gettext_lazy("Contact: WhatsApp"), "phone", False, ("whatsapp", "whats app", "wa")),
    ("contact_wechat", gettext_lazy("Contact: WeChat"), "text", False, ("wechat", "weixin", "wechat id", "微信", "微信号")),
    ("contact_linkedin", gettext_lazy("Contact: LinkedIn"), "url", False, ("linkedin", "linkedin url", "领英")),
    ("contact_skype", gettext_lazy("Contact: Skype"), "text", False, ("skype", "skype id", "skype name")),
]  # fmt: skip

_CONTACT = [
    ("first_name", None, "text", False, ("first name", "firstname", "given name", "名")),
    ("last_name", None, "text", False, ("last name", "lastname", "surname", "family name", "姓")),
    ("name", gettext_lazy("full name"), "text", False, (
        "name", "full name", "contact", "contact name", "contact person", "person", "buyer name",
        "display name", "姓名", "名字", "联系人", "联系人姓名", "联络人")),
    ("name_local", None, "text", False, (
        "name (local)", "local name", "chinese name", "name in local script", "中文名", "中文姓名", "本地姓名")),
    ("title", None, "text", False, (
        "title", "job title", "position", "designation", "role", "职位", "职务", "头衔", "岗位")),
    ("emails", None, "email", True, (
        "email", "emails", "e-mail", "email address", "e-mail address", "mail", "work email", "other email",
        "secondary email", "primary email", "邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址")),
    ("phones", None, "phone", True, (
        "phone", "phones", "tel", "tel.", "telephone", "phone number", "mobile", "mobile phone", "cell",
        "cell phone", "cellphone", "work phone", "home phone", "direct phone", "fax", "电话", "电话号码",
        "联系电话", "手机", "手机号", "手机号码", "移动电话", "座机", "传真")),
    ("whatsapp", None, "phone", False, ("whatsapp", "whats app", "wa")),
    ("wechat", None, "text", False, ("wechat", "weixin", "wechat id", "微信", "微信号")),
    ("linkedin", None, "url", False, ("linkedin", "linkedin url", "领英")),
    ("skype", None, "text", False, ("skype", "skype id", "skype name")),
    ("birthday", None, "date", False, ("birthday", "birth date", "date of birth", "dob", "生日", "出生日期")),
    ("notes", None, "text", True, (
        "notes", "note", "remarks", "remark", "comments", "comment", "description", "memo", "备注", "说明",
        "留言", "备忘")),
    ("company_name", gettext_lazy("company name"), "text", False, (
        "company", "company name", "organization", "organisation", "organization name", "account name",
        "account", "employer", "公司", "公司名称", "公司名", "单位", "单位名称", "企业名称", "客户名称")),
    ("company_website", gettext_lazy("company website"), "url", False, (
        "website", "company website", "web", "url", "homepage", "web page", "网址", "网站", "公司网站",
        "官网")),
    ("company_country", gettext_lazy("company country"), "country", False, (
        "country", "country/region", "company country", "nation", "国家", "国家/地区", "国家地区", "国别")),
    ("company_id", gettext_lazy("company ID (TradeCRM)"), "id", False, ("company id (tradecrm)", "tradecrm company id")),
    ("id", gettext_lazy("ID (TradeCRM)"), "id", False, ("tradecrm id",)),
]  # fmt: skip

_CUSTOMS = [
    ("importer_name", None, "text", False, (
        "importer", "importer name", "consignee", "consignee name", "buyer", "buyer name", "purchaser",
        "importer/consignee", "进口商", "进口商名称", "采购商", "采购商名称", "收货人", "收货人名称", "买家")),
    ("importer_country", None, "country", False, (
        "importer country", "consignee country", "buyer country", "country of destination",
        "destination country", "importing country", "进口国", "进口国家", "采购商国家", "目的国")),
    ("importer_address", None, "text", False, (
        "importer address", "consignee address", "buyer address", "进口商地址", "采购商地址", "收货人地址")),
    ("exporter_name", None, "text", False, (
        "exporter", "exporter name", "shipper", "shipper name", "supplier", "seller", "exporter/shipper",
        "manufacturer", "出口商", "出口商名称", "供应商", "供应商名称", "发货人", "卖家")),
    ("exporter_country", None, "country", False, (
        "exporter country", "shipper country", "supplier country", "exporting country", "country of export",
        "出口国", "出口国家", "供应商国家")),
    ("notify_party", None, "text", False, ("notify", "notify party", "notify party name", "通知人", "通知方")),
    ("hs_code", None, "text", False, (
        "hs", "hs code", "hscode", "hs code (6 digit)", "tariff code", "commodity code", "海关编码", "hs编码",
        "商品编码", "税则号", "税号编码")),
    ("product_description", None, "text", False, (
        "product", "description", "product description", "goods description", "commodity", "goods",
        "description of goods", "cargo description", "产品描述", "商品描述", "货物描述", "产品名称", "品名",
        "商品名称", "产品", "货物名称")),
    ("quantity", None, "number", False, ("quantity", "qty", "number of units", "数量", "件数", "总数量")),
    ("quantity_unit", None, "text", False, (
        "unit", "quantity unit", "uom", "unit of measure", "qty unit", "单位", "数量单位", "计量单位")),
    ("weight_kg", None, "number", False, (
        "weight", "weight kg", "gross weight", "net weight", "weight (kg)", "gross weight kg", "total weight",
        "重量", "毛重", "净重", "重量(kg)", "重量(千克)", "总重量")),
    ("value", None, "number", False, (
        "value", "total value", "amount", "total price", "value usd", "fob value", "cif value", "total amount",
        "declared value", "trade value", "金额", "总价", "总金额", "货值", "金额(美元)", "成交金额", "交易金额")),
    ("currency", None, "currency", False, ("currency", "币种", "货币", "币制")),
    ("date", None, "date", False, (
        "date", "arrival date", "shipment date", "import date", "export date", "declaration date",
        "shipping date", "trade date", "日期", "进口日期", "出口日期", "到港日期", "申报日期", "交易日期",
        "提单日期")),
    ("port_of_loading", None, "text", False, (
        "port of loading", "port of lading", "loading port", "origin port", "foreign port", "pol",
        "装货港", "起运港", "装运港")),
    ("port_of_discharge", None, "text", False, (
        "port of discharge", "port of unlading", "discharge port", "destination port", "arrival port", "pod",
        "卸货港", "目的港", "到达港")),
    ("bl_number", None, "text", False, (
        "bl", "b/l", "b/l no", "b/l number", "bill of lading", "bill of lading number", "bol", "bol number",
        "提单号", "提单", "提单编号")),
    ("origin_country", None, "country", False, (
        "origin", "country of origin", "origin country", "made in", "原产国", "原产地", "产地")),
]  # fmt: skip


# Buyers' own lists arrive in their languages too: German, French, Spanish, Portuguese, Russian.
_INTL_COMPANY = {
    "name": ("firma", "firmenname", "unternehmen", "société", "entreprise", "raison sociale", "empresa",
             "nombre de la empresa", "razón social", "компания", "название компании", "организация"),
    "country": ("land", "pays", "país", "страна"),
    "city": ("stadt", "ort", "ville", "ciudad", "cidade", "город"),
    "address": ("adresse", "anschrift", "straße", "dirección", "direccion", "endereço", "адрес"),
    "website": ("webseite", "internetseite", "site web", "sitio web", "сайт"),
    "email": ("e-mail-adresse", "courriel", "correo", "correo electrónico", "почта", "эл. почта"),
    "phones": ("telefon", "telefonnummer", "téléphone", "teléfono", "telefone", "телефон"),
    "industry": ("branche", "secteur", "sector", "отрасль"),
    "notes": ("bemerkung", "bemerkungen", "notizen", "remarques", "notas", "observaciones", "примечание",
              "комментарий"),
    "tax_id": ("ust-idnr", "ust-id", "steuernummer", "numéro de tva", "nif", "cif", "инн"),
    "contact_name": ("ansprechpartner", "kontakt", "contacto", "personne de contact", "контактное лицо"),
    "contact_title": ("funktion", "fonction", "cargo", "puesto", "должность"),
    "contact_mobile": ("mobil", "mobiltelefon", "portable", "móvil", "celular", "мобильный"),
}  # fmt: skip
_INTL_CONTACT = {
    "name": ("ansprechpartner", "contacto", "контактное лицо", "имя и фамилия"),
    "first_name": ("vorname", "prénom", "nombre", "имя"),
    "last_name": ("nachname", "nom", "apellido", "apellidos", "фамилия"),
    "title": _INTL_COMPANY["contact_title"],
    "emails": _INTL_COMPANY["email"],
    "phones": _INTL_COMPANY["phones"] + _INTL_COMPANY["contact_mobile"],
    "company_name": _INTL_COMPANY["name"],
    "company_country": _INTL_COMPANY["country"],
    "company_website": _INTL_COMPANY["website"],
    "notes": _INTL_COMPANY["notes"],
}
_INTL = {"companies": _INTL_COMPANY, "contacts": _INTL_CONTACT}


def _product_rows() -> list[tuple]:
    kinds = {"number": "number", "bool": "bool", "text": "text"}
    numeric = {"moq"}
    out = []
    for col in (*PRODUCT_COLUMNS, CARTON_SIZE):
        kind = "number" if col.field in numeric else kinds.get(col.kind, "text")
        if col.field == "unit":
            kind = "choice"
        label = gettext_lazy("carton size (cm)") if col.field == "carton_size" else None
        out.append((col.field, label, kind, False, (col.header, *col.aliases)))
    return out


def _models():
    from tradecrm.catalog.models import Product
    from tradecrm.customers.models import Company, Contact
    from tradecrm.customs.models import CustomsRecord

    return {
        "companies": (Company, Contact, "contact_"),
        "contacts": (Contact, Company, "company_"),
        "products": (Product, None, ""),
        "customs": (CustomsRecord, None, ""),
    }


def _rows(entity: str) -> list[tuple]:
    if entity == "companies":
        return _COMPANY
    if entity == "contacts":
        return _CONTACT
    if entity == "customs":
        return _CUSTOMS
    if entity == "products":
        return _product_rows()
    raise ValueError(entity)


def _model_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except Exception:  # FieldDoesNotExist, or a made-up field such as "name"
        return None


@functools.cache
def _verbose_aliases(entity: str) -> dict[str, tuple[str, ...]]:
    """field → its model field's verbose names in English and Chinese (and those of the related
    model's fields, for the contact_… / company_… columns)."""
    main, other, prefix = _models()[entity]
    out: dict[str, list[str]] = {}
    for row in _rows(entity):
        name = row[0]
        if row[2] == "id" and name != "id":
            continue
        f = _model_field(main, name)
        if f is None and other is not None and name.startswith(prefix):
            f = _model_field(other, name.removeprefix(prefix))
        if f is None or not hasattr(f, "verbose_name"):
            continue
        names = out.setdefault(name, [])
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                names.append(str(f.verbose_name))
    if entity == "contacts":  # a contacts export names the company column after Contact.company
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                out.setdefault("company_name", []).append(str(main._meta.get_field("company").verbose_name))
    return {k: tuple(v) for k, v in out.items()}


def targets(entity: str, source: str = "generic") -> list[Target]:
    """The fields a column of an `entity` file can go to, with every header name each answers
    to (the source's own names first)."""
    if entity not in ENTITIES:
        raise ValueError(_("Unknown kind of import “%(entity)s”.") % {"entity": entity})
    src = get_source(source)
    main = _models()[entity][0]
    verbose = _verbose_aliases(entity)
    out = []
    for name, label, kind, multiple, aliases in _rows(entity):
        extra = src.aliases.get(f"{entity}.{name}", ()) + src.aliases.get(name, ())
        if label is None:
            f = _model_field(main, name)
            label = f.verbose_name if f is not None else gettext_lazy(name)
        out.append(
            Target(
                field=name,
                label=label,
                kind=kind,
                multiple=multiple,
                aliases=tuple(
                    dict.fromkeys(
                        (*extra, *aliases, *_INTL.get(entity, {}).get(name, ()), *verbose.get(name, ()))
                    )
                ),
                fallback="source_detail" if (entity, name) == ("companies", "source") else "",
            )
        )
    return out


def target_fields(entity: str) -> dict[str, Target]:
    return {t.field: t for t in targets(entity)}


# --- header lookup ----------------------------------------------------------------------------------

_BRACKETS = re.compile(r"[(（\[【{].*?[)）\]】}]")
_UNITS = ("kgs", "kg", "cm", "mm", "cny", "rmb", "元", "m3", "usd", "eur", "pcs", "美元", "千克", "公斤")
_DIGITS = re.compile(r"\d+")


@functools.cache
def _index(entity: str, source: str) -> dict[str, str]:
    """header key → field ("" = never map automatically). The source's names first, then the
    written aliases, then the verbose names; the first field claiming a key keeps it."""
    src = get_source(source)
    out: dict[str, str] = {}
    for header in src.aliases.get("", ()):
        out.setdefault(normalize_header(header), "")
    ts = targets(entity, source)
    for t in ts:  # the source's own names first
        for alias in src.aliases.get(f"{entity}.{t.field}", ()) + src.aliases.get(t.field, ()):
            out.setdefault(normalize_header(alias), t.field)
    verbose = _verbose_aliases(entity)
    for t in ts:
        for alias in t.aliases:
            if alias not in verbose.get(t.field, ()):
                out.setdefault(normalize_header(alias), t.field)
    for t in ts:
        for alias in (t.field, *verbose.get(t.field, ())):
            out.setdefault(normalize_header(alias), t.field)
    out.pop("", None)
    out.setdefault("id", "id")
    return out


@functools.cache
def _all_keys() -> frozenset[str]:
    from .sources import SOURCES

    keys: set[str] = set()
    for source in SOURCES:
        for entity in get_source(source).entities:
            keys.update(k for k, v in _index(entity, source).items() if v)
    return frozenset(keys)


def known_header_count(cells: list[str]) -> int:
    """How many of these cells name a column any import knows (to find the header row)."""
    keys = _all_keys()
    return sum(1 for c in cells if normalize_header(c) in keys)


def _variants(text: str) -> list[str]:
    """Keys to try after the exact one: without brackets, without a unit suffix."""
    out = []
    bare = normalize_header(_BRACKETS.sub("", text))
    if bare:
        out.append(bare)
    key = normalize_header(text)
    for suffix in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            out.append(key[: -len(suffix)])
    return out


def _lookup(text: str, index: dict[str, str], fields: dict[str, Target], step: int) -> str | None:
    key = normalize_header(text)
    if not key:
        return None
    if step == 0:
        return index.get(key)
    if step == 1:
        for variant in _variants(text):
            if variant in index:
                return index[variant]
        return None
    if step == 2:  # "Phone 2", "E-mail 3 - Value" → a field taking several columns
        bare = _DIGITS.sub("", key)
        if bare != key and bare:
            field = index.get(bare)
            if field is None:
                field = next((index[v] for v in _variants(_DIGITS.sub("", text)) if v in index), None)
            if field and fields[field].multiple:
                return field
        return None
    if len(key) >= 6 and not key.isdigit():  # a close spelling: "Adress", "Compnay name"
        candidates = [k for k, v in index.items() if v and len(k) >= 5]
        hit = process.extractOne(key, candidates, scorer=fuzz.ratio, score_cutoff=88)
        if hit is not None:
            return index[hit[0]]
    return None


_CONTACT_NAMES = {
    "contact_first_name",
    "contact_last_name",
    "contact_name",
    "contact_name_local",
    "contact_email",
}


def auto_map(headers: list[str], *, entity: str, source: str = "generic") -> dict[int, str]:
    """column index → field, for the headers we recognise. A field taking one column goes to the
    first column naming it; exact names win over near ones. A column "ID" maps to the record id
    only for a TradeCRM export (another system's ids are not ours)."""
    index = _index(entity, source)
    fields = {t.field: t for t in targets(entity, source)}
    out: dict[int, str] = {}
    taken: set[str] = set()
    for step in range(4):
        for i, header in enumerate(headers):
            if i in out:
                continue
            field = _lookup(str(header or ""), index, fields, step)
            if not field or field not in fields:
                continue
            if (
                fields[field].kind == "id"
                and source != "tradecrm"
                and "tradecrm" not in normalize_header(header)
            ):
                continue
            if field in taken and not fields[field].multiple:
                continue
            out[i] = field
            taken.add(field)
    if entity == "companies" and not taken & _CONTACT_NAMES:
        # A mobile number with no contact person in the file is the company's.
        for i, field in list(out.items()):
            if field == "contact_mobile":
                out[i] = "phones"
    return dict(sorted(out.items()))


# --- saved mappings ---------------------------------------------------------------------------------


def _template_keys(headers: list[str]) -> list[str]:
    """Normalised header per column; a repeated header gets "#2", "#3"… so each stays apart."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        key = normalize_header(h) or "_"
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return out


def template_mapping(headers: list[str], mapping: dict[int, str]) -> dict[str, str]:
    """A mapping by column index → by header text, to save: every column is listed, "" for a
    column deliberately left out, so applying it later does not map that column again."""
    mapping = {int(k): v for k, v in mapping.items()}
    return {key: mapping.get(i, "") for i, key in enumerate(_template_keys(headers))}


def apply_template(headers: list[str], saved: dict[str, str]) -> dict[int, str]:
    """A saved mapping applied to a file's headers (matched by normalised text)."""
    out = {}
    for i, key in enumerate(_template_keys(headers)):
        field = saved.get(key)
        if field:
            out[i] = field
    return out


def template_covers(headers: list[str], saved: dict[str, str]) -> list[str]:
    """Headers of the file the saved mapping knows nothing about (new columns)."""
    return [h for h, key in zip(headers, _template_keys(headers), strict=True) if key not in saved]


# --- checks -----------------------------------------------------------------------------------------

_REQUIRED = {
    "companies": ((("name", "id"), gettext_lazy("the company name")),),
    "contacts": (
        (
            ("name", "first_name", "last_name", "name_local", "emails", "id"),
            gettext_lazy("a name or an email"),
        ),
    ),
    "customs": (
        (("importer_name",), gettext_lazy("the importer / consignee")),
        (("date",), gettext_lazy("the date")),
    ),
    "products": ((("sku",), gettext_lazy("the SKU")),),
}


def _column(headers: list[str], i: int) -> str:
    return headers[i] if 0 <= i < len(headers) else str(i + 1)


def mapping_errors(mapping: dict[int, str], *, entity: str, headers: list[str]) -> list[str]:
    """What is wrong with a mapping, one translated sentence each: a column that does not exist,
    an unknown field, a one-column field mapped twice, a required field missing."""
    fields = {t.field: t for t in targets(entity)}
    errors: list[str] = []
    by_field: dict[str, list[int]] = {}
    for raw_index, field in sorted(((int(k), v) for k, v in mapping.items()), key=lambda kv: kv[0]):
        if not field:
            continue
        if not 0 <= raw_index < len(headers):
            errors.append(
                _("Column %(n)d does not exist: the file has %(count)d columns.")
                % {"n": raw_index + 1, "count": len(headers)}
            )
            continue
        if field not in fields:
            errors.append(
                _("Column “%(column)s” goes to “%(field)s”, which is not a field of this import.")
                % {"column": _column(headers, raw_index), "field": field}
            )
            continue
        by_field.setdefault(field, []).append(raw_index)
    for field, columns in by_field.items():
        if len(columns) > 1 and not fields[field].multiple:
            names = [f"“{_column(headers, i)}”" for i in columns]
            errors.append(
                _(
                    "Columns %(columns)s and %(last)s all go to “%(field)s”, which takes one column: choose one."
                )
                % {"columns": ", ".join(names[:-1]), "last": names[-1], "field": fields[field].label}
                if len(names) > 2
                else _(
                    "Columns %(first)s and %(last)s both go to “%(field)s”, which takes one column: choose one."
                )
                % {"first": names[0], "last": names[1], "field": fields[field].label}
            )
    for options, what in _REQUIRED.get(entity, ()):
        if not any(o in by_field for o in options):
            errors.append(_("No column goes to %(what)s: map the column that holds it.") % {"what": what})
    return errors
