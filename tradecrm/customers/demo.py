"""Realistic demo data for the customer archive: the foreign buyers of Chinese suppliers.

One generator feeds two paths:

* `demo_through_services` creates companies and contacts with `company_create` / `contact_create`,
  so every value passes the same validation a user's input does (small N);
* `fast_insert` writes pre-computed rows with raw `executemany` (SQLite) or COPY (PostgreSQL),
  with `search_text` computed by the very functions the services use (large N, and bench/load.py).

Names, streets and jobs come from faker, drawn once into per-locale pools so that a million
companies do not cost a million faker calls; what faker cannot give (real trade cities, Arabic and
Chinese names with their Latin spelling, trade shows, HS codes) is the small tables below.
Phone numbers start from phonenumbers' own example numbers, so each country's numbers are valid
for that country and stored as E.164.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import phonenumbers
from faker import Faker

from tradecrm.core import geo
from tradecrm.core.crypto import encrypt_value
from tradecrm.core.search import phone_search_tokens, search_document

from .models import (
    TAX_ID_LABEL,
    BusinessType,
    CompanySize,
    CreditRating,
    PurchaseBand,
    Seniority,
    Source,
    Status,
    tax_id_hash,
)

# --- reference tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    country: str
    locale: str  # faker locale for people and streets
    weight: int  # share of buyers
    cities: tuple[tuple[str, str], ...]  # (city, Chinese name or "")
    tld: str
    currency: str
    language: str
    suffixes: tuple[str, ...]
    chinese_share: float = 0.0  # companies run by (overseas) Chinese: Chinese local name
    style: str = "latin"  # latin | arabic | thai


MARKETS: tuple[Market, ...] = (
    # North America
    Market(
        "US",
        "en_US",
        16,
        (
            ("New York", "纽约"),
            ("Los Angeles", "洛杉矶"),
            ("Chicago", "芝加哥"),
            ("Houston", "休斯顿"),
            ("Miami", "迈阿密"),
            ("Dallas", "达拉斯"),
            ("Atlanta", ""),
            ("Seattle", "西雅图"),
            ("Phoenix", ""),
            ("Denver", ""),
            ("Detroit", "底特律"),
            ("New Jersey", "新泽西"),
        ),
        "com",
        "USD",
        "en",
        ("Inc.", "LLC", "Corp.", "Co."),
        0.15,
    ),
    Market(
        "CA",
        "en_CA",
        3,
        (("Toronto", "多伦多"), ("Vancouver", "温哥华"), ("Montreal", ""), ("Calgary", "")),
        "ca",
        "CAD",
        "en",
        ("Inc.", "Ltd."),
        0.2,
    ),
    # Europe
    Market(
        "GB",
        "en_GB",
        5,
        (("London", "伦敦"), ("Manchester", "曼彻斯特"), ("Birmingham", ""), ("Leeds", "")),
        "co.uk",
        "GBP",
        "en",
        ("Ltd", "Ltd.", "plc"),
        0.1,
    ),
    Market(
        "DE",
        "de_DE",
        6,
        (
            ("Berlin", "柏林"),
            ("Hamburg", "汉堡"),
            ("München", "慕尼黑"),
            ("Frankfurt am Main", "法兰克福"),
            ("Düsseldorf", "杜塞尔多夫"),
            ("Köln", ""),
        ),
        "de",
        "EUR",
        "de",
        ("GmbH", "GmbH & Co. KG", "AG"),
    ),
    Market(
        "FR",
        "fr_FR",
        4,
        (("Paris", "巴黎"), ("Lyon", "里昂"), ("Marseille", "马赛"), ("Lille", "")),
        "fr",
        "EUR",
        "fr",
        ("SARL", "SAS", "SA"),
    ),
    Market(
        "IT",
        "it_IT",
        3,
        (("Milano", "米兰"), ("Roma", "罗马"), ("Prato", "普拉托"), ("Napoli", "")),
        "it",
        "EUR",
        "it",
        ("S.r.l.", "S.p.A."),
        0.08,
    ),
    Market(
        "ES",
        "es_ES",
        3,
        (("Madrid", "马德里"), ("Barcelona", "巴塞罗那"), ("Valencia", "瓦伦西亚"), ("Sevilla", "")),
        "es",
        "EUR",
        "es",
        ("S.L.", "S.A."),
        0.08,
    ),
    Market(
        "NL",
        "nl_NL",
        3,
        (("Amsterdam", "阿姆斯特丹"), ("Rotterdam", "鹿特丹"), ("Utrecht", ""), ("Eindhoven", "")),
        "nl",
        "EUR",
        "nl",
        ("B.V.",),
    ),
    Market(
        "PL",
        "pl_PL",
        2,
        (("Warszawa", "华沙"), ("Kraków", ""), ("Łódź", ""), ("Wrocław", "")),
        "pl",
        "PLN",
        "pl",
        ("Sp. z o.o.", "S.A."),
    ),
    # Middle East
    Market(
        "AE",
        "ar_AE",
        5,
        (("Dubai", "迪拜"), ("Abu Dhabi", "阿布扎比"), ("Sharjah", "沙迦"), ("Ajman", "")),
        "ae",
        "AED",
        "ar",
        ("LLC", "FZE", "FZCO", "General Trading LLC"),
        0.05,
        "arabic",
    ),
    Market(
        "SA",
        "ar_SA",
        4,
        (("Riyadh", "利雅得"), ("Jeddah", "吉达"), ("Dammam", "达曼")),
        "com.sa",
        "SAR",
        "ar",
        ("Co. Ltd.", "Est.", "Trading Co."),
        0.0,
        "arabic",
    ),
    Market(
        "EG",
        "ar_EG",
        2,
        (("Cairo", "开罗"), ("Alexandria", "亚历山大"), ("Giza", "")),
        "com.eg",
        "EGP",
        "ar",
        ("S.A.E.", "Co.", "Group"),
        0.0,
        "arabic",
    ),
    Market(
        "TR",
        "tr_TR",
        3,
        (("Istanbul", "伊斯坦布尔"), ("Ankara", ""), ("Izmir", ""), ("Bursa", "")),
        "com.tr",
        "USD",
        "tr",
        ("A.Ş.", "Ltd. Şti."),
    ),
    # Latin America
    Market(
        "MX",
        "es_MX",
        5,
        (
            ("Ciudad de México", "墨西哥城"),
            ("Guadalajara", "瓜达拉哈拉"),
            ("Monterrey", "蒙特雷"),
            ("Tijuana", ""),
            ("Puebla", ""),
        ),
        "com.mx",
        "USD",
        "es",
        ("S.A. de C.V.", "S. de R.L. de C.V."),
    ),
    Market(
        "BR",
        "pt_BR",
        5,
        (
            ("São Paulo", "圣保罗"),
            ("Rio de Janeiro", "里约热内卢"),
            ("Curitiba", ""),
            ("Manaus", ""),
            ("Belo Horizonte", ""),
        ),
        "com.br",
        "USD",
        "pt",
        ("Ltda.", "S.A.", "EIRELI"),
    ),
    Market(
        "CL",
        "es_CL",
        2,
        (("Santiago", "圣地亚哥"), ("Valparaíso", ""), ("Iquique", "伊基克")),
        "cl",
        "USD",
        "es",
        ("SpA", "Ltda.", "S.A."),
    ),
    Market(
        "CO",
        "es_CO",
        2,
        (("Bogotá", "波哥大"), ("Medellín", "麦德林"), ("Cali", ""), ("Barranquilla", "")),
        "com.co",
        "USD",
        "es",
        ("S.A.S.", "Ltda."),
    ),
    Market(
        "AR",
        "es_AR",
        1,
        (("Buenos Aires", "布宜诺斯艾利斯"), ("Córdoba", ""), ("Rosario", "")),
        "com.ar",
        "USD",
        "es",
        ("S.A.", "S.R.L."),
    ),
    # Southeast Asia
    Market(
        "VN",
        "vi_VN",
        4,
        (("Ho Chi Minh City", "胡志明市"), ("Hanoi", "河内"), ("Hai Phong", "海防"), ("Da Nang", "岘港")),
        "vn",
        "USD",
        "vi",
        ("Co., Ltd.", "JSC"),
        0.1,
    ),
    Market(
        "TH",
        "th_TH",
        4,
        (("Bangkok", "曼谷"), ("Chiang Mai", "清迈"), ("Chonburi", "春武里")),
        "co.th",
        "USD",
        "th",
        ("Co., Ltd.", "Public Co., Ltd."),
        0.3,
        "thai",
    ),
    Market(
        "ID",
        "id_ID",
        4,
        (("Jakarta", "雅加达"), ("Surabaya", "泗水"), ("Medan", "棉兰"), ("Bandung", "万隆")),
        "co.id",
        "USD",
        "id",
        ("PT", "CV"),
        0.3,
    ),
    Market(
        "MY",
        "en_US",
        4,
        (
            ("Kuala Lumpur", "吉隆坡"),
            ("Penang", "槟城"),
            ("Johor Bahru", "新山"),
            ("Ipoh", "怡保"),
            ("Kuching", "古晋"),
        ),
        "com.my",
        "USD",
        "ms",
        ("Sdn. Bhd.", "Bhd."),
        0.6,
    ),
    Market("SG", "en_US", 2, (("Singapore", "新加坡"),), "com.sg", "SGD", "en", ("Pte. Ltd.",), 0.7),
    Market(
        "PH",
        "en_PH",
        3,
        (("Manila", "马尼拉"), ("Cebu", "宿务"), ("Davao", "达沃")),
        "com.ph",
        "USD",
        "en",
        ("Inc.", "Corp."),
        0.3,
    ),
)
MARKET_BY_COUNTRY = {m.country: m for m in MARKETS}

# (English, Chinese, HS code, industry): what Chinese exporters sell
PRODUCTS: tuple[tuple[str, str, str, str], ...] = (
    ("LED panel lights", "LED面板灯", "940542", "Lighting"),
    ("LED street lights", "LED路灯", "940542", "Lighting"),
    ("Solar panels", "太阳能电池板", "854143", "Solar energy"),
    ("Lithium-ion batteries", "锂离子电池", "850760", "Batteries"),
    ("Stainless steel kitchen sinks", "不锈钢水槽", "732410", "Kitchenware"),
    ("Ceramic floor tiles", "陶瓷地砖", "690721", "Building materials"),
    ("Office chairs", "办公椅", "940130", "Furniture"),
    ("Sofas", "沙发", "940161", "Furniture"),
    ("Cordless drills", "无线电钻", "846721", "Tools & hardware"),
    ("Hand tools", "手动工具", "820540", "Tools & hardware"),
    ("Bluetooth speakers", "蓝牙音箱", "851822", "Consumer electronics"),
    ("Phone cases", "手机壳", "392690", "Consumer electronics"),
    ("Cotton T-shirts", "纯棉T恤", "610910", "Apparel"),
    ("Sports shoes", "运动鞋", "640411", "Footwear"),
    ("Brake pads", "刹车片", "870830", "Auto parts"),
    ("Car tyres", "轿车轮胎", "401110", "Auto parts"),
    ("Plastic toys", "塑料玩具", "950300", "Toys"),
    ("Kitchen knives", "厨房刀具", "821191", "Kitchenware"),
    ("Glass bottles", "玻璃瓶", "701090", "Packaging"),
    ("Corrugated cartons", "瓦楞纸箱", "481910", "Packaging"),
    ("Furniture hardware", "家具五金", "830242", "Tools & hardware"),
    ("Electric bicycles", "电动自行车", "871160", "Vehicles"),
    ("Split air conditioners", "分体式空调", "841510", "Home appliances"),
    ("Polyester fabric", "涤纶面料", "540752", "Textiles"),
    ("Medical face masks", "医用口罩", "630790", "Medical supplies"),
    ("Ball valves", "球阀", "848180", "Industrial equipment"),
    ("Welded steel pipes", "焊接钢管", "730630", "Steel"),
    ("Cosmetic packaging", "化妆品包装", "392330", "Packaging"),
    ("Umbrellas", "雨伞", "660191", "Consumer goods"),
    ("Christmas decorations", "圣诞装饰品", "950510", "Consumer goods"),
    ("Excavator parts", "挖掘机配件", "843149", "Machinery"),
    ("Water pumps", "水泵", "841370", "Machinery"),
)

# (Latin, Arabic) name words for Gulf / Egyptian trading houses, and industries to go with them
ARABIC_BRANDS = (
    ("Al Noor", "النور"),
    ("Al Fajr", "الفجر"),
    ("Al Khaleej", "الخليج"),
    ("Al Safwa", "الصفوة"),
    ("Al Rawabi", "الروابي"),
    ("Al Amal", "الأمل"),
    ("Al Baraka", "البركة"),
    ("Al Majd", "المجد"),
    ("Al Waha", "الواحة"),
    ("Al Hilal", "الهلال"),
    ("Al Sharq", "الشرق"),
    ("Al Yamama", "اليمامة"),
    ("Al Manar", "المنار"),
    ("Al Falah", "الفلاح"),
    ("Al Diyar", "الديار"),
    ("Al Bustan", "البستان"),
    ("Al Qasr", "القصر"),
    ("Al Jazeera", "الجزيرة"),
    ("Al Nahda", "النهضة"),
    ("Al Salam", "السلام"),
    ("Al Zahra", "الزهراء"),
    ("Al Tamimi", "التميمي"),
    ("Al Rashid", "الراشد"),
    ("Al Otaibi", "العتيبي"),
    ("Al Ghamdi", "الغامدي"),
)
ARABIC_INDUSTRIES = (
    ("General Trading", "للتجارة العامة"),
    ("Building Materials", "لمواد البناء"),
    ("Electronics", "للإلكترونيات"),
    ("Lighting", "للإنارة"),
    ("Auto Spare Parts", "لقطع غيار السيارات"),
    ("Furniture", "للأثاث"),
    ("Textiles", "للمنسوجات"),
    ("Packaging", "لمواد التغليف"),
    ("Home Appliances", "للأجهزة المنزلية"),
    ("Medical Supplies", "للمستلزمات الطبية"),
    ("Hardware & Tools", "للعدد والأدوات"),
    ("Solar Energy", "للطاقة الشمسية"),
)
ARABIC_FIRST = (
    ("Mohammed", "محمد"),
    ("Ahmed", "أحمد"),
    ("Khalid", "خالد"),
    ("Omar", "عمر"),
    ("Ali", "علي"),
    ("Hassan", "حسن"),
    ("Youssef", "يوسف"),
    ("Ibrahim", "إبراهيم"),
    ("Abdullah", "عبدالله"),
    ("Faisal", "فيصل"),
    ("Saeed", "سعيد"),
    ("Tariq", "طارق"),
    ("Hamad", "حمد"),
    ("Nasser", "ناصر"),
    ("Fatima", "فاطمة"),
    ("Mariam", "مريم"),
    ("Noura", "نورة"),
    ("Aisha", "عائشة"),
    ("Layla", "ليلى"),
    ("Sara", "سارة"),
    ("Huda", "هدى"),
    ("Rania", "رانيا"),
)
ARABIC_LAST = (
    ("Al Mansouri", "المنصوري"),
    ("Al Hashimi", "الهاشمي"),
    ("Al Qahtani", "القحطاني"),
    ("Al Shamsi", "الشامسي"),
    ("Al Maktoum", "المكتوم"),
    ("Al Harbi", "الحربي"),
    ("Al Zahrani", "الزهراني"),
    ("Al Dosari", "الدوسري"),
    ("Haddad", "حداد"),
    ("Khoury", "خوري"),
    ("Saleh", "صالح"),
    ("Mahmoud", "محمود"),
    ("Abdelrahman", "عبدالرحمن"),
    ("El Sayed", "السيد"),
    ("Farouk", "فاروق"),
    ("Nasr", "نصر"),
)
# Chinese characters common in (overseas) Chinese company names and given names, with pinyin
HANZI = (
    ("华", "Hua"),
    ("兴", "Xing"),
    ("金", "Jin"),
    ("龙", "Long"),
    ("鑫", "Xin"),
    ("达", "Da"),
    ("恒", "Heng"),
    ("泰", "Tai"),
    ("富", "Fu"),
    ("隆", "Long"),
    ("盛", "Sheng"),
    ("天", "Tian"),
    ("丰", "Feng"),
    ("永", "Yong"),
    ("利", "Li"),
    ("宏", "Hong"),
    ("发", "Fa"),
    ("源", "Yuan"),
    ("德", "De"),
    ("信", "Xin"),
    ("安", "An"),
    ("佳", "Jia"),
    ("和", "He"),
    ("祥", "Xiang"),
    ("瑞", "Rui"),
    ("明", "Ming"),
    ("光", "Guang"),
    ("东", "Dong"),
    ("海", "Hai"),
    ("新", "Xin"),
    ("通", "Tong"),
    ("昌", "Chang"),
    ("茂", "Mao"),
    ("荣", "Rong"),
    ("威", "Wei"),
    ("捷", "Jie"),
    ("顺", "Shun"),
    ("亿", "Yi"),
    ("万", "Wan"),
    ("嘉", "Jia"),
    ("诚", "Cheng"),
    ("合", "He"),
    ("成", "Cheng"),
    ("远", "Yuan"),
    ("辉", "Hui"),
    ("星", "Xing"),
    ("伟", "Wei"),
    ("志", "Zhi"),
    ("俊", "Jun"),
    ("文", "Wen"),
    ("丽", "Li"),
    ("美", "Mei"),
    ("玲", "Ling"),
    ("婷", "Ting"),
    ("静", "Jing"),
    ("强", "Qiang"),
    ("杰", "Jie"),
    ("峰", "Feng"),
    ("雪", "Xue"),
    ("芳", "Fang"),
    ("敏", "Min"),
    ("建", "Jian"),
    ("国", "Guo"),
    ("平", "Ping"),
    ("宁", "Ning"),
    ("凯", "Kai"),
)
# overseas Chinese surnames keep their dialect spellings (Tan, Lim, Wong...)
CHINESE_SURNAMES = (
    ("陈", "Tan", "Chen"),
    ("林", "Lim", "Lin"),
    ("李", "Lee", "Li"),
    ("黄", "Wong", "Huang"),
    ("吴", "Ng", "Wu"),
    ("张", "Teo", "Zhang"),
    ("王", "Ong", "Wang"),
    ("刘", "Lau", "Liu"),
    ("杨", "Yeo", "Yang"),
    ("郑", "Tay", "Zheng"),
    ("蔡", "Chua", "Cai"),
    ("许", "Koh", "Xu"),
    ("谢", "Chia", "Xie"),
    ("何", "Ho", "He"),
    ("周", "Chew", "Zhou"),
    ("梁", "Leong", "Liang"),
    ("吕", "Lu", "Lv"),
    ("孙", "Soon", "Sun"),
    ("马", "Ma", "Ma"),
    ("胡", "Hu", "Hu"),
)
CHINESE_INDUSTRIES = (
    ("Trading", "贸易"),
    ("Electrical", "电器"),
    ("Hardware", "五金"),
    ("Lighting", "照明"),
    ("Building Materials", "建材"),
    ("Electronics", "电子"),
    ("Furniture", "家具"),
    ("Auto Parts", "汽配"),
    ("Packaging", "包装"),
    ("Textile", "纺织"),
    ("Machinery", "机械"),
    ("Import & Export", "进出口"),
    ("Household Products", "日用品"),
    ("Solar", "光伏"),
)
THAI_NAMES = (
    ("Somchai", "สมชาย"),
    ("Somsak", "สมศักดิ์"),
    ("Suda", "สุดา"),
    ("Malee", "มาลี"),
    ("Niran", "นิรันดร์"),
    ("Pranee", "ปราณี"),
    ("Wichai", "วิชัย"),
    ("Kanya", "กัญญา"),
    ("Anan", "อนันต์"),
    ("Siriporn", "ศิริพร"),
)
THAI_SURNAMES = (
    ("Srisuk", "ศรีสุข"),
    ("Wongsawat", "วงศ์สวัสดิ์"),
    ("Chaiyaporn", "ไชยพร"),
    ("Saetang", "แซ่ตั้ง"),
    ("Rattanakul", "รัตนกุล"),
    ("Boonmee", "บุญมี"),
    ("Kittisak", "กิตติศักดิ์"),
    ("Thongchai", "ธงชัย"),
)
THAI_BRANDS = (
    ("Siam", "สยาม"),
    ("Thai Union", "ไทยยูเนี่ยน"),
    ("Rattana", "รัตนา"),
    ("Chokchai", "โชคชัย"),
    ("Sahakarn", "สหการ"),
    ("Krungthep", "กรุงเทพ"),
    ("Charoen", "เจริญ"),
    ("Mongkol", "มงคล"),
)
THAI_INDUSTRIES = (
    ("Trading", "เทรดดิ้ง"),
    ("Electric", "การไฟฟ้า"),
    ("Hardware", "ฮาร์ดแวร์"),
    ("Industry", "อุตสาหกรรม"),
    ("Import-Export", "นำเข้าส่งออก"),
    ("Lighting", "ไลท์ติ้ง"),
)

# words that make a surname a trading house, per language (a trailing space: the word goes first)
TRADE_WORDS = {
    "en": ("Trading", "Imports", "Supply", "Distribution", "Wholesale", "Sourcing", "International"),
    "de": ("Handel", "Import", "Vertrieb", "Großhandel", "Technik"),
    "fr": ("Import", "Distribution", "Négoce"),
    "it": ("Import", "Distribuzione", "Forniture"),
    "es": ("Importadora ", "Distribuidora ", "Comercial ", "Suministros "),
    "pt": ("Importadora ", "Distribuidora ", "Comercial "),
    "nl": ("Import", "Groothandel", "Trading"),
    "pl": ("Hurtownia ", "Import", "Handel"),
    "tr": ("Dış Ticaret", "İthalat", "Ticaret"),
    "vi": ("Trading", "Import Export"),
    "id": ("Trading", "Jaya", "Makmur"),
}

# (title, seniority) in the language the buyer corresponds in
TITLES = {
    "en": (
        ("Purchasing Manager", Seniority.MANAGER),
        ("Sourcing Director", Seniority.DIRECTOR),
        ("CEO", Seniority.OWNER),
        ("Owner", Seniority.OWNER),
        ("Buyer", Seniority.STAFF),
        ("Import Manager", Seniority.MANAGER),
        ("Procurement Specialist", Seniority.STAFF),
        ("Category Manager", Seniority.MANAGER),
        ("Logistics Coordinator", Seniority.STAFF),
        ("General Manager", Seniority.DIRECTOR),
        ("Product Development Manager", Seniority.MANAGER),
        ("Managing Director", Seniority.OWNER),
    ),
    "es": (
        ("Gerente de Compras", Seniority.MANAGER),
        ("Director General", Seniority.OWNER),
        ("Comprador", Seniority.STAFF),
        ("Jefe de Importaciones", Seniority.MANAGER),
        ("Propietario", Seniority.OWNER),
    ),
    "pt": (
        ("Gerente de Compras", Seniority.MANAGER),
        ("Diretor Comercial", Seniority.DIRECTOR),
        ("Comprador", Seniority.STAFF),
        ("Sócio-Proprietário", Seniority.OWNER),
    ),
    "de": (
        ("Einkaufsleiter", Seniority.MANAGER),
        ("Geschäftsführer", Seniority.OWNER),
        ("Einkäufer", Seniority.STAFF),
        ("Leiter Beschaffung", Seniority.DIRECTOR),
    ),
    "fr": (
        ("Responsable des achats", Seniority.MANAGER),
        ("Directeur général", Seniority.OWNER),
        ("Acheteur", Seniority.STAFF),
    ),
}

TAGS = (
    ("VIP", "#d63939"),
    ("Canton Fair", "#f59f00"),
    ("Price sensitive", "#ae3ec9"),
    ("Sample sent", "#2fb344"),
    ("大客户", "#d6336c"),
    ("Alibaba RFQ", "#f76707"),
    ("Slow payer", "#667382"),
    ("OEM / private label", "#4263eb"),
    ("Amazon seller", "#fab005"),
    ("Distributor candidate", "#0ca678"),
    ("需要认证 CE/UL", "#1098ad"),
    ("Dormant 6m+", "#868e96"),
)

TRADE_SHOWS = (
    "Canton Fair {year} spring, booth {hall}.{n} {letter}{booth}",
    "Canton Fair {year} autumn, booth {hall}.{n} {letter}{booth}",
    "Hong Kong Electronics Fair {year}, booth 1{letter}-{booth}",
    "Big 5 Global Dubai {year}, hall {n}",
    "Automechanika Frankfurt {year}, hall {hall}.{n}",
    "CES Las Vegas {year}, booth {booth}{n}",
    "Intersolar Europe {year}, hall B{n}",
    "East China Fair Shanghai {year}",
    "Yiwu Commodities Fair {year}",
    "Expo Nacional Ferretera Guadalajara {year}",
    "Light + Building Frankfurt {year}, hall {n}.{hall}",
    "Global Sources Mobile Electronics {year}, booth {letter}{booth}",
)
SOURCE_DETAIL = {
    Source.CUSTOMS: (
        "US import records (bills of lading) {year}, HS {hs}",
        "Panjiva shipment records {year}",
        "ImportGenius search HS {hs}",
        "Customs data {country} {year}",
    ),
    Source.B2B: (
        "Alibaba.com RFQ",
        "Alibaba.com inquiry, {product}",
        "Made-in-China.com inquiry",
        "Global Sources inquiry",
        "Alibaba.com Trade Assurance order",
    ),
    Source.WEBSITE: (
        "Contact form on our website",
        "Google Ads landing page, {product}",
        "Live chat on our website",
    ),
    Source.REFERRAL: (
        "Referred by an existing customer",
        "Referred by our forwarder",
        "Introduced by the factory in Ningbo",
    ),
    Source.SOCIAL: (
        "LinkedIn message",
        "Facebook group for importers",
        "WhatsApp group",
        "YouTube product video",
    ),
    Source.COLD: ("Cold email campaign {year}-{month:02d}", "Cold call", "LinkedIn outreach"),
    Source.OTHER: ("Visit to our factory", "Met in Yiwu market"),
}

STATUS_WEIGHTS = (
    (Status.LEAD, 34),
    (Status.PROSPECT, 20),
    (Status.SAMPLE, 10),
    (Status.FIRST_ORDER, 8),
    (Status.REPEAT, 13),
    (Status.DORMANT, 10),
    (Status.LOST, 5),
)
SOURCE_WEIGHTS = (
    (Source.TRADE_SHOW, 22),
    (Source.B2B, 30),
    (Source.CUSTOMS, 12),
    (Source.WEBSITE, 12),
    (Source.REFERRAL, 8),
    (Source.SOCIAL, 8),
    (Source.COLD, 6),
    (Source.OTHER, 2),
)
BTYPE_WEIGHTS = (
    (BusinessType.IMPORTER, 25),
    (BusinessType.WHOLESALER, 20),
    (BusinessType.DISTRIBUTOR, 18),
    (BusinessType.RETAILER, 12),
    (BusinessType.TRADER, 10),
    (BusinessType.MANUFACTURER, 5),
    (BusinessType.AGENT, 4),
    (BusinessType.PURCHASING_OFFICE, 3),
    (BusinessType.PROJECT_CONTRACTOR, 3),
)


_SIZES, _BANDS, _RATINGS = tuple(CompanySize.values), tuple(PurchaseBand.values), tuple(CreditRating.values)


def _weighted(pairs) -> tuple[list, list[int]]:
    values = [p[0] for p in pairs]
    cum, total = [], 0
    for p in pairs:
        total += p[1]
        cum.append(total)
    return values, cum


# --- phones ------------------------------------------------------------------------------------


# area codes of the cities above where a country spans several time zones, so that a buyer's
# number, city and inferred time zone agree
CITY_AREAS = {
    ("US", "New York"): "212",
    ("US", "Los Angeles"): "213",
    ("US", "Chicago"): "312",
    ("US", "Houston"): "713",
    ("US", "Miami"): "305",
    ("US", "Dallas"): "214",
    ("US", "Atlanta"): "404",
    ("US", "Seattle"): "206",
    ("US", "Phoenix"): "602",
    ("US", "Denver"): "303",
    ("US", "Detroit"): "313",
    ("US", "New Jersey"): "201",
    ("CA", "Toronto"): "416",
    ("CA", "Vancouver"): "604",
    ("CA", "Montreal"): "514",
    ("CA", "Calgary"): "403",
    ("BR", "São Paulo"): "11",
    ("BR", "Rio de Janeiro"): "21",
    ("BR", "Curitiba"): "41",
    ("BR", "Manaus"): "92",
    ("BR", "Belo Horizonte"): "31",
}


@functools.cache
def _phone_stems(country: str, area: str = "") -> dict[str, tuple[str, ...]]:
    """E.164 numbers without their last four digits, per type, whose endings may vary freely.
    Grown from the library's example number (its leading digits, or the city's area code) by
    varying the digits before the last four; a stem is kept only when several random endings
    all validate, so generated numbers need no per-number check."""
    rnd = random.Random(f"phones-{country}-{area}")
    out: dict[str, tuple[str, ...]] = {}
    for kind, ptype in (
        ("mobile", phonenumbers.PhoneNumberType.MOBILE),
        ("fixed", phonenumbers.PhoneNumberType.FIXED_LINE),
    ):
        example = phonenumbers.example_number_for_type(country, ptype)
        if example is None:
            continue
        cc, nsn = example.country_code, phonenumbers.national_significant_number(example)
        head = area or nsn[: max(2, len(nsn) - 6)]
        stems: set[str] = set()
        for _ in range(300):
            cand = head + "".join(rnd.choice("0123456789") for _ in range(len(nsn) - len(head)))
            if all(_valid(cc, cand[:-4] + f"{rnd.randrange(10000):04d}", country) for _ in range(3)):
                stems.add(f"+{cc}{cand[:-4]}")
                if len(stems) >= 16:
                    break
        if stems:
            out[kind] = tuple(sorted(stems))
    if not out and area:
        return _phone_stems(country)
    if not out:
        raise ValueError(f"no valid phone numbers for {country}")
    return out


def _valid(cc: int, nsn: str, country: str) -> bool:
    try:
        num = phonenumbers.parse(f"+{cc}{nsn}", None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(num) and phonenumbers.region_code_for_number(num) == country


def phone_valid(e164: str, country: str) -> bool:
    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(num) and phonenumbers.region_code_for_number(num) == country


# --- text helpers ------------------------------------------------------------------------------

_ASCII_FIX = str.maketrans({"đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "æ": "ae", "ı": "i"})


@functools.lru_cache(maxsize=65536)
def ascii_slug(text: str, sep: str = "") -> str:
    text = (
        unicodedata.normalize("NFKD", text.translate(_ASCII_FIX)).encode("ascii", "ignore").decode().lower()
    )
    words = [
        "".join(ch for ch in w if ch.isalnum()) for w in text.replace("&", " ").replace("-", " ").split()
    ]
    return sep.join(w for w in words if w)


# --- the generator -----------------------------------------------------------------------------


PLAIN_POOL = {
    "first": ["Anna", "David", "María", "Jürgen", "Lucas"],
    "last": ["García", "Schmidt", "Rossi", "Nguyen", "Smith"],
    "street": ["12 Harbour Road", "Calle Mayor 45", "Hauptstraße 7"],
    "postcode": ["10115", "28013"],
    "company": ["Northwind", "Blue Harbor", "Meridian Supply"],
}


@dataclass
class Owner:
    user_id: int
    team_id: int | None


@dataclass
class Generated:
    """One company: `data` is the keyword payload `company_create` accepts (clean values),
    `contacts` the payloads for `contact_create`; the rest is what the fast path needs too."""

    data: dict
    contacts: list[dict]
    owner: Owner
    tag_ids: list[int] = field(default_factory=list)
    follower_ids: list[int] = field(default_factory=list)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class DemoGenerator:
    POOL = 300  # faker draws per locale and kind; combinations make the rows distinct

    def __init__(
        self,
        seed: int = 0,
        owners: list[Owner] | None = None,
        tag_ids: list[int] | None = None,
        follower_ids: list[int] | None = None,
        now: dt.datetime | None = None,
        contacts_per_company: int | None = None,
        use_faker: bool = True,
    ):
        self.rnd = random.Random(seed)
        self.use_faker = use_faker
        self.contacts_per_company = contacts_per_company
        self.seed = seed
        self.owners = owners or []
        self.tag_ids = tag_ids or []
        self.follower_ids = follower_ids or [o.user_id for o in self.owners]
        self.now = now or dt.datetime.now(dt.UTC)
        self.markets, self._market_cum = _weighted([(m, m.weight) for m in MARKETS])
        self.statuses, self._status_cum = _weighted(STATUS_WEIGHTS)
        self.sources, self._source_cum = _weighted(SOURCE_WEIGHTS)
        self.btypes, self._btype_cum = _weighted(BTYPE_WEIGHTS)
        self._pools: dict[str, dict[str, list[str]]] = {}
        self._serial = 0

    # faker is slow (tens of µs a call, ~70 ms to start a locale): draw each locale's pools once;
    # use_faker=False swaps in a tiny fixed pool, for tests that do not look at names
    def _pool(self, locale: str) -> dict[str, list[str]]:
        pools = self._pools.get(locale)
        if pools is None and not self.use_faker:
            pools = self._pools[locale] = PLAIN_POOL
        if pools is None:
            fk = Faker(locale)
            fk.seed_instance(self.seed)
            n = self.POOL
            companies = []
            while len(companies) < n // 3:
                c = fk.company()
                if not any(bad in c for bad in ("e.V.", "Stiftung", "Gruppe", "ohne")):
                    companies.append(c.replace(" Doanh nghiệp tư nhân", "").strip())
            pools = {
                "first": [fk.first_name() for _ in range(n)],
                "last": [fk.last_name() for _ in range(n)],
                "street": [fk.street_address() for _ in range(n)],
                "postcode": [fk.postcode() for _ in range(n // 3)],
                "company": companies,
            }
            self._pools[locale] = pools
        return pools

    def _market(self) -> Market:
        return self.rnd.choices(self.markets, cum_weights=self._market_cum)[0]

    def phone(self, country: str, kind: str = "mobile", city: str = "") -> str:
        stems = _phone_stems(country, CITY_AREAS.get((country, city), ""))
        choices = stems.get(kind) or stems.get("mobile") or stems["fixed"]
        return self.rnd.choice(choices) + f"{self.rnd.randrange(10000):04d}"

    def _names(self, market: Market, chinese: bool, city_zh: str) -> tuple[str, str, str, str]:
        """(name, name_local, domain stem, language family) for one company."""
        r = self.rnd
        suffix = r.choice(market.suffixes)
        if chinese:
            (c1, p1), (c2, p2) = r.sample(HANZI, 2)
            ind_en, ind_zh = r.choice(CHINESE_INDUSTRIES)
            brand = f"{p1} {p2}" if r.random() < 0.5 else f"{p1}{p2.lower()}"
            name = f"PT {brand} {ind_en}" if suffix == "PT" else f"{brand} {ind_en} {suffix}"
            local = f"{city_zh if r.random() < 0.6 else ''}{c1}{c2}{ind_zh}{r.choice(('有限公司', '公司', '贸易有限公司', '集团'))}"
            return name, local, ascii_slug(f"{brand} {ind_en.split()[0]}"), "zh"
        if market.style == "arabic":
            (b_en, b_ar), (i_en, i_ar) = r.choice(ARABIC_BRANDS), r.choice(ARABIC_INDUSTRIES)
            name = (
                f"{b_en} {i_en} {suffix}"
                if "Trading" not in suffix or i_en != "General Trading"
                else f"{b_en} {suffix}"
            )
            local = f"{r.choice(('شركة', 'مؤسسة', 'مجموعة'))} {b_ar} {i_ar}"
            return name, local, ascii_slug(f"{b_en} {i_en.split()[0]}"), "ar"
        if market.style == "thai":
            (b_en, b_th), (i_en, i_th) = r.choice(THAI_BRANDS), r.choice(THAI_INDUSTRIES)
            tail = r.choice(self._pool("en_US")["last"])
            name = f"{b_en} {tail} {i_en} {suffix}"
            local = f"บริษัท {b_th} {i_th} จำกัด"
            return name, local, ascii_slug(f"{b_en} {tail}"), "th"
        base = r.choice(self._pool(market.locale)["company"])
        for s in (*market.suffixes, "Ltd.", "Inc", "LLC", "Group", "PLC", "Corporation", "S.A.", "Ltda."):
            base = base.removesuffix(" " + s).removesuffix(", " + s)
        base = base.strip(" ,")
        trade = r.choice(TRADE_WORDS.get(market.language, TRADE_WORDS["en"])) if r.random() < 0.35 else ""
        if suffix in ("PT", "CV"):
            name = f"{suffix} {base}"
        elif trade.endswith(" "):  # a word that goes first: "Importadora Pérez S.A."
            name = f"{trade}{base} {suffix}"
        elif trade:
            name = f"{base} {trade} {suffix}"
        else:
            name = f"{base} {suffix}"
        return name, "", ascii_slug(base)[:24] or "trade", "latin"

    def _person(self, market: Market, family: str) -> tuple[str, str, str]:
        """(first, last, name in local script)."""
        r = self.rnd
        if family == "zh":
            c1, p1 = r.choice(HANZI)
            c2, p2 = r.choice(HANZI)
            sur_zh, sur_dialect, sur_pinyin = r.choice(CHINESE_SURNAMES)
            overseas = market.country in ("MY", "SG", "ID", "TH", "PH")
            return (
                f"{p1} {p2}" if overseas else f"{p1}{p2.lower()}",
                sur_dialect if overseas else sur_pinyin,
                f"{sur_zh}{c1}{c2}",
            )
        if family == "ar":
            (f_en, f_ar), (l_en, l_ar) = r.choice(ARABIC_FIRST), r.choice(ARABIC_LAST)
            return f_en, l_en, f"{f_ar} {l_ar}"
        if family == "th":
            (f_en, f_th), (l_en, l_th) = r.choice(THAI_NAMES), r.choice(THAI_SURNAMES)
            return f_en, l_en, f"{f_th} {l_th}"
        pool = self._pool(market.locale)
        return r.choice(pool["first"]), r.choice(pool["last"]), ""

    def _dates(self) -> tuple[dt.datetime, dt.datetime]:
        r = self.rnd
        created = self.now - dt.timedelta(
            seconds=r.randrange(3 * 365 * 86400), microseconds=r.randrange(1, 1_000_000)
        )
        updated = created + dt.timedelta(
            seconds=r.randrange(max(1, int((self.now - created).total_seconds())))
        )
        return created, min(updated, self.now)

    def _source_detail(self, source: str, market: Market, product: tuple) -> str:
        r = self.rnd
        year = r.choice((2023, 2024, 2025, 2026))
        if source == Source.TRADE_SHOW:
            tpl = r.choice(TRADE_SHOWS)
        else:
            tpl = r.choice(SOURCE_DETAIL[source])
        return tpl.format(
            year=year,
            hall=r.randrange(1, 18),
            n=r.randrange(1, 4),
            letter=r.choice("ABCDEFGHJK"),
            booth=r.randrange(1, 60),
            hs=product[2][:4],
            country=market.country,
            product=product[0],
            month=r.randrange(1, 13),
        )

    def company(self) -> Generated:
        r = self.rnd
        self._serial += 1
        market = self._market()
        chinese = r.random() < market.chinese_share
        city, city_zh = r.choice(market.cities)
        name, name_local, stem, family = self._names(market, chinese, city_zh)
        pool = self._pool(market.locale)
        domain = f"{stem}{r.randrange(100) if r.random() < 0.3 else ''}.{market.tld}"
        products = r.sample(PRODUCTS, r.choice((1, 1, 2, 3)))
        status = r.choices(self.statuses, cum_weights=self._status_cum)[0]
        source = r.choices(self.sources, cum_weights=self._source_cum)[0]
        phones = [self.phone(market.country, "fixed" if r.random() < 0.6 else "mobile", city)]
        if r.random() < 0.25:
            phones.append(self.phone(market.country, "mobile"))
        created, updated = self._dates()
        ordered = status in (Status.FIRST_ORDER, Status.REPEAT, Status.DORMANT)
        data = {
            "name": name,
            "name_local": name_local,
            "country": market.country,
            "city": city,
            "address": f"{r.choice(pool['street'])}, {r.choice(pool['postcode'])} {city}",
            "website": f"https://www.{domain}",
            "email": f"{r.choice(('info', 'sales', 'purchasing', 'import', 'office', 'contact'))}@{domain}",
            "email_domains": [domain],
            "phones": phones,
            "industry": products[0][3],
            "business_type": r.choices(self.btypes, cum_weights=self._btype_cum)[0],
            "company_size": r.choice(_SIZES),
            "annual_purchase": r.choice(_BANDS),
            "main_products": "; ".join(f"{p[0]} / {p[1]}" for p in products),
            "hs_codes": sorted({p[2] for p in products}),
            "source": source,
            "source_detail": self._source_detail(source, market, products[0]),
            "preferred_language": "zh" if chinese and r.random() < 0.5 else market.language,
            "currency": market.currency,
            "credit_rating": r.choice(_RATINGS) if ordered else "",
            "cooperation_since": (updated - dt.timedelta(days=r.randrange(30, 900))).date()
            if ordered
            else None,
            "status": status,
            "notes": r.choice(
                (
                    "",
                    "",
                    "Prefers FOB Ningbo; pays 30% deposit, 70% against B/L copy.",
                    "Asks for CE and RoHS certificates with every quotation.",
                    "Ramadan: expect slow replies; follow up after Eid.",
                    "样品已寄出，DHL单号见跟进记录。",
                    "Needs private-label packaging, MOQ 1x40HQ.",
                    "Competitor quotes 5% lower from Vietnam.",
                )
            ),
        }
        n_contacts = self.contacts_per_company or r.choice((1, 1, 2, 2, 2, 3))
        contacts = [self.contact(market, family, domain, city, primary=(i == 0)) for i in range(n_contacts)]
        owner = r.choice(self.owners) if self.owners else Owner(0, None)
        tag_ids = r.sample(self.tag_ids, r.choice((1, 1, 2))) if self.tag_ids and r.random() < 0.35 else []
        followers = []
        if self.follower_ids and r.random() < 0.1:
            followers = sorted(
                {u for u in r.sample(self.follower_ids, min(2, len(self.follower_ids))) if u != owner.user_id}
            )
        return Generated(data, contacts, owner, sorted(tag_ids), followers, created, updated)

    def contact(self, market: Market, family: str, domain: str, city: str, *, primary: bool) -> dict:
        r = self.rnd
        first, last, local = self._person(market, family)
        fa, la = ascii_slug(first), ascii_slug(last)
        emails = [f"{fa}.{la}@{domain}" if r.random() < 0.6 else f"{fa}@{domain}"]
        if r.random() < 0.2:
            emails.append(
                f"{fa}{la}{r.randrange(10, 99)}@{r.choice(('gmail.com', 'outlook.com', 'yahoo.com', 'hotmail.com'))}"
            )
        mobile = self.phone(market.country, "mobile")
        phones = [mobile]
        if r.random() < 0.3:
            phones.append(self.phone(market.country, "fixed", city))
        titles = TITLES.get(market.language, TITLES["en"]) if r.random() < 0.6 else TITLES["en"]
        title, seniority = r.choice(titles)
        uses_wechat = family == "zh" or r.random() < 0.08
        return {
            "first_name": first,
            "last_name": last,
            "name_local": local,
            "title": title,
            "seniority": str(seniority),
            "emails": emails,
            "phones": phones,
            "whatsapp": mobile if r.random() < 0.7 else "",
            "wechat": (
                f"{fa}_{la}{r.randrange(100)}" if r.random() < 0.5 else f"wxid_{r.randrange(16**10):010x}"
            )
            if uses_wechat
            else "",
            "linkedin": f"https://www.linkedin.com/in/{fa}-{la}-{r.randrange(1000, 9999)}"
            if r.random() < 0.3
            else "",
            "skype": f"live:{fa}.{la}" if r.random() < 0.05 else "",
            "birthday": dt.date(r.randrange(1960, 2000), r.randrange(1, 13), r.randrange(1, 29))
            if r.random() < 0.2
            else None,
            "is_primary": primary,
            "preferred_language": "zh" if family == "zh" and r.random() < 0.5 else market.language,
        }

    def companies(self, n: int) -> Iterator[Generated]:
        for _ in range(n):
            yield self.company()


# --- search text exactly as the services compute it ---------------------------------------------


def company_search_text_for(g: Generated) -> str:
    from .services import company_search_text

    return company_search_text(SimpleNamespace(**g.data), g.contacts)


def contact_search_text_for(c: dict) -> str:
    from .services import contact_search_text

    return contact_search_text(SimpleNamespace(**c))


def _company_search_text_fast(d: dict, contacts: list[dict]) -> str:
    """`services.company_search_text` without the attribute lookups (same parts, same order)."""
    parts = [d["name"], d["name_local"], d["email"], d["city"], " ".join(d["email_domains"])]
    parts += [phone_search_tokens(p) for p in d["phones"]]
    for c in contacts:
        parts += [c["first_name"], c["last_name"], c["name_local"], " ".join(c["emails"])]
        parts += [phone_search_tokens(p) for p in c["phones"]]
    return search_document(*parts)


def _contact_search_text_fast(c: dict) -> str:
    return search_document(
        c["first_name"],
        c["last_name"],
        c["name_local"],
        " ".join(c["emails"]),
        *(phone_search_tokens(p) for p in c["phones"]),
        c["wechat"],
        c["whatsapp"],
    )


# --- users, teams and tags for the demo ------------------------------------------------------------

DEMO_TEAMS = (("Sales", None), ("East", "Sales"), ("West", "Sales"))
DEMO_USERS = (  # username, role, team, first, last
    ("liu.yang", "manager", "Sales", "Yang", "Liu"),
    ("huang.li", "manager", "East", "Li", "Huang"),
    ("wang.fang", "sales", "East", "Fang", "Wang"),
    ("li.na", "sales", "East", "Na", "Li"),
    ("zhao.lei", "sales", "East", "Lei", "Zhao"),
    ("wu.jun", "manager", "West", "Jun", "Wu"),
    ("zhang.wei", "sales", "West", "Wei", "Zhang"),
    ("chen.jing", "sales", "West", "Jing", "Chen"),
    ("sun.hao", "sales", "West", "Hao", "Sun"),
)


def ensure_demo_users(users=DEMO_USERS, teams=DEMO_TEAMS) -> tuple[list, dict[str, str]]:
    """Teams and users for the demo, created when missing. Returns (users, {username: new password})."""
    from tradecrm.accounts.models import Team, User

    by_name: dict[str, Team] = {}
    for name, parent in teams:
        team = Team.objects.filter(name=name).first()
        if team is None:
            team = Team.objects.create(name=name, parent=by_name.get(parent) if parent else None)
        by_name[name] = team
    created: dict[str, str] = {}
    out = []
    for username, role, team, first, last in users:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User(
                username=username,
                role=role,
                team=by_name[team],
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                language="zh-hans",
            )
            user.set_password(password)
            user.save()
            created[username] = password
        out.append(user)
    return out, created


def ensure_demo_tags() -> list[int]:
    """Shared tags (no team), so every demo user may put them on a customer."""
    from .models import Tag
    from .validation import clean_tag

    ids = []
    for name, color in TAGS:
        tag = Tag.objects.filter(team__isnull=True, name=name).first()
        if tag is None:
            tag = Tag.objects.create(**clean_tag({"name": name, "color": color}), team=None)
        ids.append(tag.pk)
    return ids


def demo_through_services(n: int, *, seed: int, owners: list, tag_ids: list[int]) -> int:
    """Create n companies with their contacts through the services (validation, audit, search)."""
    gen = DemoGenerator(seed=seed, owners=[Owner(u.pk, u.team_id) for u in owners], tag_ids=tag_ids)
    create_through_services(gen.companies(n), {u.pk: u for u in owners})
    return n


def create_through_services(generated: Iterable[Generated], users: dict) -> list:
    """Each generated company as its owner would type it in: `company_create`, then `contact_create`."""
    from .services import company_create, contact_create

    out = []
    for g in generated:
        actor = users[g.owner.user_id]
        company = company_create(actor=actor, data={**g.data, "tags": g.tag_ids, "followers": g.follower_ids})
        for c in g.contacts:
            contact_create(actor=actor, company=company, data=c)
        out.append(company)
    return out


# --- the fast path -----------------------------------------------------------------------------

COMPANY_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "name",
    "name_local",
    "country",
    "city",
    "address",
    "website",
    "email",
    "email_domains",
    "phones",
    "industry",
    "tax_id",
    "business_type",
    "company_size",
    "annual_purchase",
    "main_products",
    "hs_codes",
    "source",
    "source_detail",
    "timezone",
    "office_start",
    "office_end",
    "preferred_language",
    "currency",
    "credit_rating",
    "cooperation_since",
    "status",
    "owner_id",
    "team_id",
    "notes",
    "search_text",
    "last_contact_at",
    "next_followup_at",
    "reviewed_at",
    "version",
    "created_by_id",
    "updated_by_id",
    "tax_id_hash",
)
CONTACT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "company_id",
    "first_name",
    "last_name",
    "name_local",
    "title",
    "seniority",
    "emails",
    "phones",
    "email",
    "whatsapp",
    "wechat",
    "linkedin",
    "skype",
    "birthday",
    "is_primary",
    "preferred_language",
    "notes",
    "search_text",
    "version",
    "created_by_id",
    "updated_by_id",
)


_TZ_CACHE: dict[tuple[str, str, str], str] = {}


def _infer_tz(d: dict) -> str:
    """What services._fill_derived infers, cached by city and number prefix (a number's zone
    is decided by its leading digits: country code and area)."""
    phone = d["phones"][0] if d["phones"] else ""
    key = (d["country"], d["city"], phone[:8])
    tz = _TZ_CACHE.get(key)
    if tz is None:
        tz = _TZ_CACHE[key] = geo.infer_timezone(d["country"], d["city"], phone)
    return tz


def _json(v) -> str:
    return json.dumps(v)  # as Django's JSONField stores it (ensure_ascii)


class Rows:
    """Column tuples for one batch of generated companies, ids assigned from `next_company_id`."""

    def __init__(self, next_company_id: int, next_contact_id: int, fmt_dt, *, with_keys: bool = False):
        self.company_id = next_company_id
        self.contact_id = next_contact_id
        self.fmt_dt = fmt_dt
        self.with_keys = with_keys  # also build the duplicate-check key rows (see `company_keys`)

    def build(self, batch: Iterable[Generated]):
        from tradecrm.dedup.keys import company_key_rows, contact_keys

        companies, contacts, tags, followers = [], [], [], []
        # duplicate-check key rows, a side output (callers that write them read these attributes)
        self.company_keys: list[tuple[int, int, int]] = []
        self.contact_keys: list[tuple[int, int, int]] = []
        f = self.fmt_dt
        for g in batch:
            d = g.data
            cid = self.company_id
            self.company_id += 1
            created, updated = f(g.created_at), f(g.updated_at)
            owner = g.owner.user_id or None
            coop = d["cooperation_since"]
            if self.with_keys:
                self.company_keys += company_key_rows(cid, d)
            companies.append(
                (
                    cid,
                    created,
                    updated,
                    d["name"],
                    d["name_local"],
                    d["country"],
                    d["city"],
                    d["address"],
                    d["website"],
                    d["email"],
                    _json(d["email_domains"]),
                    _json(d["phones"]),
                    d["industry"],
                    encrypt_value(d.get("tax_id", ""), TAX_ID_LABEL),  # encrypted at rest (core/crypto.py)
                    d["business_type"],
                    d["company_size"],
                    d["annual_purchase"],
                    d["main_products"],
                    _json(d["hs_codes"]),
                    d["source"],
                    d["source_detail"],
                    _infer_tz(d),
                    None,
                    None,
                    d["preferred_language"],
                    d["currency"],
                    d["credit_rating"],
                    coop.isoformat() if coop else None,
                    d["status"],
                    owner,
                    g.owner.team_id,
                    encrypt_value(d["notes"], "customers.company.notes"),
                    _company_search_text_fast(d, g.contacts),
                    None,
                    None,
                    None,
                    1,
                    owner,
                    owner,
                    tax_id_hash(d.get("tax_id", "")),
                )
            )
            for c in g.contacts:
                bday = c["birthday"]
                contacts.append(
                    (
                        self.contact_id,
                        created,
                        created,
                        cid,
                        c["first_name"],
                        c["last_name"],
                        c["name_local"],
                        c["title"],
                        c["seniority"],
                        _json(c["emails"]),
                        _json(c["phones"]),
                        c["emails"][0] if c["emails"] else "",
                        c["whatsapp"],
                        c["wechat"],
                        c["linkedin"],
                        c["skype"],
                        bday.isoformat() if bday else None,
                        c["is_primary"],
                        c["preferred_language"],
                        "",
                        _contact_search_text_fast(c),
                        1,
                        owner,
                        owner,
                    )
                )
                if self.with_keys:
                    self.contact_keys += [(self.contact_id, kind, key) for kind, key in contact_keys(c)]
                self.contact_id += 1
            tags += [(cid, t) for t in g.tag_ids]
            followers += [(cid, u) for u in g.follower_ids]
        return companies, contacts, tags, followers


KEY_COLUMNS = {"company": ("company_id", "kind", "key"), "contact": ("contact_id", "kind", "key")}


def sqlite_dt(v: dt.datetime) -> str:
    return str(v.astimezone(dt.UTC).replace(tzinfo=None))  # Django's SQLite format (naive UTC)


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _copy_text(v) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    s = str(v)
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def _copy(cur, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        buf = []
        for row in rows:
            buf.append("\t".join(_copy_text(v) for v in row))
            if len(buf) >= 5000:
                cp.write(("\n".join(buf) + "\n").encode())
                buf = []
        if buf:
            cp.write(("\n".join(buf) + "\n").encode())


def pg_dt(v: dt.datetime) -> str:
    return v.astimezone(dt.UTC).isoformat(" ")


def fast_insert_django(gen: DemoGenerator, n: int, *, batch: int = 10_000, progress=None) -> dict:
    """The fast path on the configured database: a transaction per batch of raw `executemany`
    (SQLite) or COPY (PostgreSQL). The search triggers stay in place (the app may be live), so
    this is slower than bench/load.py but safe to run beside users, and to rerun."""
    from django.db import connection, transaction

    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise RuntimeError(f"no fast path for {vendor}")
    counts = {"companies": 0, "contacts": 0, "tags": 0, "followers": 0}
    done = 0
    while done < n:
        size = min(batch, n - done)
        with transaction.atomic():
            connection.ensure_connection()
            cur = connection.connection.cursor()  # the driver's own cursor, inside Django's transaction
            if vendor == "postgresql":
                cur.execute("LOCK TABLE customers_company, customers_contact IN EXCLUSIVE MODE")
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM customers_company")
            next_company = cur.fetchone()[0] + 1
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM customers_contact")
            next_contact = cur.fetchone()[0] + 1
            rows = Rows(
                next_company, next_contact, sqlite_dt if vendor == "sqlite" else pg_dt, with_keys=True
            )
            parts = rows.build(gen.companies(size))
            companies, contacts, tags, followers = parts
            if vendor == "sqlite":
                cur.executemany(_insert_sql("customers_company", COMPANY_COLUMNS), companies)
                cur.executemany(_insert_sql("customers_contact", CONTACT_COLUMNS), contacts)
                cur.executemany("INSERT INTO customers_companytag (company_id, tag_id) VALUES (?, ?)", tags)
                cur.executemany(
                    "INSERT INTO customers_companyfollower (company_id, user_id) VALUES (?, ?)", followers
                )
                cur.executemany(_insert_sql("dedup_companykey", KEY_COLUMNS["company"]), rows.company_keys)
                cur.executemany(_insert_sql("dedup_contactkey", KEY_COLUMNS["contact"]), rows.contact_keys)
            else:
                _copy(cur, "customers_company", COMPANY_COLUMNS, companies)
                _copy(cur, "customers_contact", CONTACT_COLUMNS, contacts)
                _copy(cur, "customers_companytag", ("company_id", "tag_id"), tags)
                _copy(cur, "customers_companyfollower", ("company_id", "user_id"), followers)
                _copy(cur, "dedup_companykey", KEY_COLUMNS["company"], rows.company_keys)
                _copy(cur, "dedup_contactkey", KEY_COLUMNS["contact"], rows.contact_keys)
                for table in ("customers_company", "customers_contact"):
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                    )
            cur.close()
        done += size
        for k, v in zip(counts, parts, strict=True):
            counts[k] += len(v)
        if progress:
            progress(done)
    return counts
