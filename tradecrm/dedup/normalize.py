"""Normalisation for the duplicate check (查重): company names, email domains, web hosts, tax ids.

Everything here is pure Python and hot: the importer calls it for every row (1M rows at ≥ 50k
rows/s in total), so the common case — an ASCII name — takes a fast path without NFKC or
accent stripping, and every table is a frozenset or dict built once at import time.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# ---------------------------------------------------------------------------------------------
# company names

# Legal forms written in CJK scripts: removed wherever they occur (no spaces to anchor them).
# Longest first so that 股份有限公司 goes before 有限公司.
_CJK_LEGAL = sorted(
    (
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "责任有限公司",
        "股份公司",
        "分公司",  # "branch": 宁波恒达贸易有限公司上海分公司 is the same customer for a sales team
        "总公司",
        "公司",
        "進出口",
        "进出口",
        "有限會社",
        "株式会社",
        "有限会社",
        "合同会社",
        "주식회사",
        "유한회사",
        "(株)",
        "㈱",
        "(有)",
    ),
    key=len,
    reverse=True,
)
_CJK_LEGAL_RE = re.compile("|".join(re.escape(s) for s in _CJK_LEGAL))

# Legal-form phrases (already lower-cased, accents stripped, punctuation turned into spaces,
# single letters joined: "S.A. de C.V." → "sa de cv"). Removed wherever they occur as whole words.
_LEGAL_PHRASES = (
    "public company limited",
    "public limited company",
    "private limited",
    "pvt ltd",
    "pte ltd",
    "pty ltd",
    "co ltd",
    "company limited",
    "limited liability company",
    "limited company",
    "sdn bhd",
    "gmbh co kg",
    "gmbh co kgaa",
    "gmbh co ohg",
    "ag co kg",
    "co kg",
    "co kgaa",
    "sa de cv",
    "s de rl de cv",
    "s de rl",
    "sapi de cv",
    "sp z oo",
    "sp zoo",
    "spolka zoo",
    "sanayi ve ticaret",
    "sanayi ticaret",
    "spolka z oo",
    "ltd sti",
    "san ve tic",
    "san tic",
    "ve tic",
    "import export",
    "import and export",
    "imp exp",
    "imp and exp",
    "importers exporters",
    "importer exporter",
    "import exports",
    "imports exports",
    "joint stock company",
    "joint stock co",
    "public joint stock company",
    "cong ty tnhh",
    "cong ty co phan",
    "cong ty",
    "jsc",
    "sociedad anonima",
    "sociedad limitada",
    "societe anonyme",
    "societa per azioni",
    "societa a responsabilita limitata",
    "aktiengesellschaft",
    "gesellschaft mit beschrankter haftung",
    "naamloze vennootschap",
    "besloten vennootschap",
    "limited partnership",
)
# Single-word legal forms removed anywhere: unambiguous words that are never a name's point.
_LEGAL_ANYWHERE = frozenset(
    """ltd ltda lda llc llp plc gmbh mbh inc incorporated corp corporation limited pvt pte pty bhd berhad
    sarl sasu eurl srl slu bv bvba nv sprl kft zrt nyrt sro spzoo oyj kgaa ohg gbr
    eireli fze fzco fzc fzllc wll tbk tnhh ооо зао оао пао""".split()
)
# Short words that are legal forms only at the end (or, for some, at the start) of a name:
# "AB Volvo", "PT Maju", "OOO Romashka", "Acme SA", "Hengda Co".
_LEGAL_END = frozenset(
    """co company cia sa sas spa sl ag kg ab as asa aps oy og ug ek ev sc snc sca sapa scs scrl cv vof ek
    ae epe ike oe se sa cv me epp ltdsti sti est establishment ks ky kk gk yk ltda bt ad ood eood
    dd doo ooo ао ип ltd""".split()
)
_LEGAL_START = frozenset("pt cv ooo zao oao pao ао ип cong ab sc kk the".split())
# Conjunctions and articles that come and go between spellings of one name.
_STOP = frozenset("and und et y e u the der die das le la les el los las il lo de d l".split())
# Singular/plural and spelling variants of the generic words, so "Electronics" = "电子" = "Electronic".
_VARIANTS = {
    "industries": "industry",
    "industrial": "industry",
    "industrie": "industry",
    "industrias": "industry",
    "industriales": "industry",
    "industriale": "industry",
    "industria": "industry",
    "electronics": "electronic",
    "electronique": "electronic",
    "elektronik": "electronic",
    "products": "product",
    "textiles": "textile",
    "garments": "garment",
    "technologies": "technology",
    "technologie": "technology",
    "tecnologia": "technology",
    "tech": "technology",
    "technik": "technology",
    "intl": "international",
    "internacional": "international",
    "international": "international",
    "trade": "trading",
    "traders": "trading",
    "handel": "trading",
    "handels": "trading",
    "comercial": "trading",
    "commerce": "trading",
    "enterprises": "enterprise",
    "holdings": "holding",
    "machines": "machinery",
    "machine": "machinery",
    "plastics": "plastic",
    "chemicals": "chemical",
    "tools": "tool",
    "toys": "toy",
    "gifts": "gift",
    "crafts": "craft",
    "foods": "food",
    "materials": "material",
    "metals": "metal",
    "systems": "system",
    "solutions": "solution",
    "services": "service",
    "supplies": "supply",
    "mfg": "manufacturing",
    "manufacture": "manufacturing",
    "manufacturer": "manufacturing",
    "manufacturers": "manufacturing",
    "mfr": "manufacturing",
    "grp": "group",
    "gruppe": "group",
    "grupo": "group",
    "groupe": "group",
    "gruppo": "group",
    "svcs": "service",
    "bros": "brothers",
    "gen": "general",
    "hk": "hongkong",
    "vd": "van den",
    "vdm": "van der",
    "etablissements": "ets",
    "etablissement": "ets",
    "exporters": "export",
    "exporter": "export",
    "importers": "import",
    "imports": "import",
    "exports": "export",
    "importing": "import",
    "exporting": "export",
    "importer": "import",
    "automobile": "auto",
    "automotive": "auto",
    "automobiles": "auto",
    "intertrade": "trading",
}
# Words that describe what a company does rather than who it is: they still count in the score
# ("Hengda Trading" ≠ "Hengda Machinery"), but are not used to pick the blocking key.
GENERIC_WORDS = frozenset(
    """trading industry international group holding enterprise manufacturing technology product service
    system solution supply global worldwide development import export general company factory works
    machinery electronic electric electrical textile garment apparel clothing fashion shoes footwear
    furniture hardware plastic rubber chemical pharmaceutical medical food packaging lighting toy gift
    craft auto parts building material steel metal energy new environmental tool sanitary ceramics
    glass paper printing agriculture logistics shipping supply chain equipment instrument instruments
    commodities home household kitchen sports outdoor beauty cosmetics jewelry jewellery bags luggage
    optical optoelectronic precision engineering construction distribution distributors distributor
    wholesale retail store stores shop market mart center centre china chinese""".split()
)
# Places that start many Chinese (and some other) company names: "Ningbo Hengda Trading".
PLACE_WORDS = frozenset(
    """china hongkong hong kong hk macau macao taiwan beijing shanghai tianjin chongqing guangzhou shenzhen
    dongguan foshan zhongshan zhuhai jiangmen huizhou shantou chaozhou jieyang shunde nanhai zhaoqing
    qingyuan yangjiang maoming zhanjiang ningbo hangzhou wenzhou taizhou jinhua yiwu shaoxing jiaxing
    huzhou cixi yuyao haining tongxiang zhoushan lishui quzhou yongkang nanjing suzhou wuxi changzhou
    nantong yangzhou zhenjiang xuzhou kunshan changshu jiangyin zhangjiagang danyang yancheng huaian
    lianyungang suqian taixing fuzhou xiamen quanzhou jinjiang putian zhangzhou longyan shishi nanan
    qingdao jinan yantai weifang linyi zibo weihai rizhao dezhou liaocheng heze jining taian binzhou
    dongying zaozhuang dalian shenyang anshan dandong yingkou harbin changchun jilin shijiazhuang baoding
    tangshan cangzhou handan xingtai hengshui langfang zhengzhou luoyang xinxiang anyang nanyang xuchang
    hefei wuhu wuhan yichang xiangyang changsha zhuzhou xiangtan nanchang ganzhou jingdezhen chengdu
    mianyang kunming nanning guilin liuzhou guiyang xian baoji lanzhou urumqi yinchuan xining hohhot
    baotou taiyuan haikou sanya lhasa zhejiang jiangsu guangdong fujian shandong hebei henan hubei hunan
    anhui jiangxi sichuan yunnan guangxi guizhou shaanxi shanxi liaoning heilongjiang gansu hainan
    xinjiang ningxia qinghai mongolia inner""".split()
)
# Chinese place names and business words, turned into the words an English name would use, so that
# 宁波恒达贸易有限公司 and "Ningbo Hengda Trading Co., Ltd." meet. Longest first.
_CJK_WORDS = {
    "医疗器械": "medical equipment",
    "汽车配件": "auto parts",
    "供应链": "supply chain",
    "新能源": "new energy",
    "工艺品": "craft",
    "国际贸易": "international trading",
    "贸易": "trading",
    "商贸": "trading",
    "经贸": "trading",
    "外贸": "trading",
    "工贸": "industry trading",
    "实业": "industry",
    "工业": "industry",
    "机械": "machinery",
    "机电": "mechanical electrical",
    "电子": "electronic",
    "电器": "electrical",
    "电气": "electric",
    "科技": "technology",
    "技术": "technology",
    "纺织": "textile",
    "服装": "garment",
    "服饰": "apparel",
    "鞋业": "shoes",
    "家具": "furniture",
    "五金": "hardware",
    "塑料": "plastic",
    "塑胶": "plastic",
    "橡胶": "rubber",
    "化工": "chemical",
    "医药": "pharmaceutical",
    "食品": "food",
    "包装": "packaging",
    "照明": "lighting",
    "灯饰": "lighting",
    "玩具": "toy",
    "礼品": "gift",
    "汽配": "auto parts",
    "建材": "building material",
    "钢铁": "steel",
    "金属": "metal",
    "光电": "optoelectronic",
    "能源": "energy",
    "环保": "environmental",
    "材料": "material",
    "制品": "product",
    "用品": "product",
    "工具": "tool",
    "卫浴": "sanitary",
    "陶瓷": "ceramics",
    "玻璃": "glass",
    "纸业": "paper",
    "印刷": "printing",
    "农业": "agriculture",
    "集团": "group",
    "控股": "holding",
    "国际": "international",
    "发展": "development",
    "物流": "logistics",
    "制造": "manufacturing",
    "工厂": "factory",
    "设备": "equipment",
    "仪器": "instrument",
    "家居": "home",
    "户外": "outdoor",
    "体育": "sports",
    "运动": "sports",
    "精密": "precision",
    "工程": "engineering",
    "汽车": "auto",
    "进出口": "",
    "香港": "hongkong",
    "中国": "china",
    "北京": "beijing",
    "上海": "shanghai",
    "天津": "tianjin",
    "重庆": "chongqing",
    "广州": "guangzhou",
    "深圳": "shenzhen",
    "东莞": "dongguan",
    "佛山": "foshan",
    "中山": "zhongshan",
    "珠海": "zhuhai",
    "江门": "jiangmen",
    "惠州": "huizhou",
    "汕头": "shantou",
    "潮州": "chaozhou",
    "揭阳": "jieyang",
    "顺德": "shunde",
    "南海": "nanhai",
    "宁波": "ningbo",
    "杭州": "hangzhou",
    "温州": "wenzhou",
    "台州": "taizhou",
    "金华": "jinhua",
    "义乌": "yiwu",
    "绍兴": "shaoxing",
    "嘉兴": "jiaxing",
    "湖州": "huzhou",
    "慈溪": "cixi",
    "余姚": "yuyao",
    "海宁": "haining",
    "永康": "yongkang",
    "南京": "nanjing",
    "苏州": "suzhou",
    "无锡": "wuxi",
    "常州": "changzhou",
    "南通": "nantong",
    "扬州": "yangzhou",
    "镇江": "zhenjiang",
    "徐州": "xuzhou",
    "昆山": "kunshan",
    "常熟": "changshu",
    "江阴": "jiangyin",
    "张家港": "zhangjiagang",
    "福州": "fuzhou",
    "厦门": "xiamen",
    "泉州": "quanzhou",
    "晋江": "jinjiang",
    "石狮": "shishi",
    "莆田": "putian",
    "漳州": "zhangzhou",
    "青岛": "qingdao",
    "济南": "jinan",
    "烟台": "yantai",
    "潍坊": "weifang",
    "临沂": "linyi",
    "淄博": "zibo",
    "威海": "weihai",
    "大连": "dalian",
    "沈阳": "shenyang",
    "哈尔滨": "harbin",
    "长春": "changchun",
    "石家庄": "shijiazhuang",
    "保定": "baoding",
    "唐山": "tangshan",
    "沧州": "cangzhou",
    "郑州": "zhengzhou",
    "洛阳": "luoyang",
    "合肥": "hefei",
    "武汉": "wuhan",
    "长沙": "changsha",
    "南昌": "nanchang",
    "成都": "chengdu",
    "昆明": "kunming",
    "南宁": "nanning",
    "贵阳": "guiyang",
    "西安": "xian",
    "兰州": "lanzhou",
    "太原": "taiyuan",
    "海口": "haikou",
    "浙江": "zhejiang",
    "江苏": "jiangsu",
    "广东": "guangdong",
    "福建": "fujian",
    "山东": "shandong",
    "河北": "hebei",
    "河南": "henan",
    "湖北": "hubei",
    "湖南": "hunan",
    "安徽": "anhui",
    "江西": "jiangxi",
    "四川": "sichuan",
    "云南": "yunnan",
    "广西": "guangxi",
    "辽宁": "liaoning",
    "台湾": "taiwan",
    "澳门": "macau",
}
_CJK_WORDS_RE = re.compile("|".join(re.escape(k) for k in sorted(_CJK_WORDS, key=len, reverse=True)))
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_NON_WORD = re.compile(r"[\W_]+")
_MULTI_LEGAL_RE = re.compile(
    r"(?:^| )(?:"
    + "|".join(re.escape(p) for p in sorted(_LEGAL_PHRASES, key=len, reverse=True))
    + r")(?= |$)"
)


_PHRASE_FIRST = frozenset(p.split()[0] for p in _LEGAL_PHRASES)


def _has_cjk(text: str) -> bool:
    return _CJK_RUN.search(text) is not None


def _fold(text: str) -> str:
    """NFKC (full-width → ASCII), lower case, accents stripped (é → e, ß → ss); CJK untouched."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _join_letters(tokens: list[str]) -> list[str]:
    """ "s a de c v" → "sa de cv": runs of single letters (from dotted abbreviations) become one word."""
    out: list[str] = []
    run = ""
    for t in tokens:
        if len(t) == 1 and t.isascii() and t.isalpha():
            run += t
            continue
        if run:
            out.append(run)
            run = ""
        out.append(t)
    if run:
        out.append(run)
    return out


def _strip_legal(tokens: list[str]) -> list[str]:
    kept = [t for t in tokens if t not in _LEGAL_ANYWHERE and t not in _STOP]
    while len(kept) > 1 and kept[-1] in _LEGAL_END:
        kept.pop()
    while len(kept) > 1 and kept[0] in _LEGAL_START:
        kept.pop(0)
    return kept or tokens[:1]


@lru_cache(maxsize=65536)
def normalize_company_name(name: str) -> str:
    """The comparable core of a company name: lower case, NFKC, no accents or punctuation, no legal
    form in any common language. "Ningbo Hengda Trading Co., Ltd." → "ningbo hengda trading";
    "宁波恒达贸易有限公司" → "宁波恒达贸易"; "ＡＣＭＥ　ＧｍｂＨ" → "acme"."""
    if not name:
        return ""
    text = _fold(name.strip())
    if "f.lli" in text:  # Italian "F.lli" = Fratelli
        text = text.replace("f.lli", "fratelli")
    if not text.isascii() and _has_cjk(text):
        text = _CJK_LEGAL_RE.sub(" ", text)
    tokens = _NON_WORD.sub(" ", text).split()
    if not tokens:
        return ""
    for t in tokens:
        if len(t) == 1:
            tokens = _join_letters(tokens)
            break
    if not _PHRASE_FIRST.isdisjoint(tokens):
        stripped = _MULTI_LEGAL_RE.sub(" ", " ".join(tokens)).split()
        if stripped:
            tokens = stripped
    return " ".join(_strip_legal(tokens))


_TABLES: tuple[dict, dict] | None = None


def _toneless(syllable: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c))
    return plain.replace("ü", "v").lower()


def _tables() -> tuple[dict, dict]:
    """pypinyin's character and phrase tables (imported on the first Chinese name: ~0.1 s)."""
    global _TABLES
    if _TABLES is None:
        from pypinyin.phrases_dict import phrases_dict
        from pypinyin.pinyin_dict import pinyin_dict

        _TABLES = (pinyin_dict, phrases_dict)
    return _TABLES


@lru_cache(maxsize=16384)
def _char_pinyin(char: str) -> str:
    """Toneless pinyin of a character's most common reading: a table look-up, much faster than
    calling pypinyin per name, which matters on the import path."""
    readings = _tables()[0].get(ord(char))
    return _toneless(readings.split(",", 1)[0]) if readings else ""


@lru_cache(maxsize=8192)
def _phrase(text: str) -> str | None:
    readings = _tables()[1].get(text)
    return "".join(_toneless(r[0]) for r in readings) if readings else None


def _pinyin(run: str) -> str:
    """Toneless pinyin of a run of Chinese characters, longest known phrase first (长安 → changan,
    not zhangan), one character at a time otherwise."""
    out: list[str] = []
    i, n = 0, len(run)
    while i < n:
        for size in (4, 3, 2):
            if i + size <= n:
                reading = _phrase(run[i : i + size])
                if reading:
                    out.append(reading)
                    i += size
                    break
        else:
            out.append(_char_pinyin(run[i]))
            i += 1
    return "".join(out)


@lru_cache(maxsize=65536)
def latin_name(normalized: str) -> str:
    """The normalised name in Latin letters with the generic words in their common English form:
    "宁波恒达贸易" → "ningbo hengda trading" (Chinese place and trade words translated, the rest in
    toneless pinyin with one word per run), "hengda electronics" → "hengda electronic". Used for
    the blocking key and the score, never as an exact-match key (pinyin loses the tones)."""
    text = normalized
    if not text:
        return ""
    if not text.isascii():
        if _has_cjk(text):
            text = _CJK_WORDS_RE.sub(lambda m: f" {_CJK_WORDS[m.group(0)]} ", text)
            text = _CJK_RUN.sub(lambda m: f" {_pinyin(m.group(0))} ", text)
        if not text.isascii():
            text = text.translate(_CYRILLIC)
    # German transliteration: Müller is written Mueller and Muller; meet in the middle
    if "e" in text:
        text = text.replace("ue", "u").replace("oe", "o").replace("ae", "a")
    if "hong kong" in text:
        text = text.replace("hong kong", "hongkong")
    out = []
    for t in text.split():
        t = _VARIANTS.get(t, t)
        if len(t) >= 5 and t not in GENERIC_WORDS and t not in PLACE_WORDS:
            t = _generic_typo(t) or _split_compound(t) or t
        out.append(t)
    return " ".join(out)


_COMPOUND_TAILS = ("import", "export", "handel", "handels", "technik", "trading", "industrie", "logistik")


def _split_compound(token: str) -> str | None:
    """German-style compounds with a generic tail: "kaffeeimport" → "kaffee import" (so that it
    meets "Kaffee-Import", and "Teeimport" differs from it by its head, not by a few letters)."""
    for tail in _COMPOUND_TAILS:
        if token.endswith(tail) and len(token) - len(tail) >= 3:
            return f"{token[: -len(tail)]} {_VARIANTS.get(tail, tail)}"
    return None


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


_GENERIC_DELETIONS: dict[str, str] = {}


def _generic_typo(token: str) -> str | None:
    """The generic word `token` is one typo away from ("kitchn" → "kitchen", "textil" → "textile"),
    so that a typo in "Supplies" does not make it the name's distinctive part."""
    if not _GENERIC_DELETIONS:
        for w in GENERIC_WORDS:
            if len(w) >= 5:
                for d in _deletions(w):
                    _GENERIC_DELETIONS.setdefault(d, w)
    hit = _GENERIC_DELETIONS.get(token)  # a letter missing
    if hit:
        return hit
    for d in _deletions(token):
        if d in GENERIC_WORDS and len(d) >= 5:  # a letter too many
            return d
        hit = _GENERIC_DELETIONS.get(d)  # a letter changed (or swapped with its neighbour)
        if hit and len(hit) == len(token):
            return hit
    return None


_CYRILLIC = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdezijklmnoprstufye", strict=True)),
        "ё": "e",
        "ж": "zh",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ь": "",
        "ю": "yu",
        "я": "ya",
        "є": "ye",
        "і": "i",
        "ї": "yi",
        "ґ": "g",
    }
)


@lru_cache(maxsize=65536)
def name_core(normalized: str) -> str:
    """The distinctive part of a name for blocking: its Latin form without places and generic words,
    spaces removed ("ningbo heng da trading" → "hengda"); the whole Latin form when nothing is left."""
    words = latin_name(normalized).split()
    core = [t for t in words if t not in GENERIC_WORDS and t not in PLACE_WORDS]
    return "".join(core or words)


# ---------------------------------------------------------------------------------------------
# email domains and web hosts

FREE_MAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com ymail.com rocketmail.com hotmail.com outlook.com live.com msn.com
    aol.com aim.com icloud.com me.com mac.com mail.com email.com gmx.com gmx.net gmx.de gmx.at gmx.ch gmx.us
    web.de t-online.de freenet.de arcor.de yandex.ru yandex.com ya.ru mail.ru bk.ru list.ru inbox.ru
    rambler.ru qq.com foxmail.com 163.com 126.com yeah.net 188.com sina.com sina.cn sina.com.cn sohu.com
    aliyun.com 139.com 189.cn wo.cn wo.com.cn tom.com 21cn.com 263.net vip.qq.com vip.163.com vip.126.com
    vip.sina.com naver.com daum.net hanmail.net nate.com protonmail.com proton.me pm.me zoho.com
    zohomail.com libero.it virgilio.it tiscali.it alice.it tin.it orange.fr wanadoo.fr laposte.net free.fr
    sfr.fr neuf.fr rediffmail.com seznam.cz centrum.cz wp.pl o2.pl interia.pl onet.pl op.pl bigpond.com
    bigpond.net.au optusnet.com.au terra.com.br uol.com.br bol.com.br ig.com.br hinet.net netvigator.com
    singnet.com.sg pacific.net.sg yahoo.co.jp nifty.com docomo.ne.jp ezweb.ne.jp softbank.ne.jp
    fastmail.com fastmail.fm tutanota.com tuta.io hey.com gmx.fr mail.bg abv.bg ukr.net i.ua meta.ua
    walla.co.il netzero.net earthlink.net comcast.net verizon.net att.net sbcglobal.net cox.net
    btinternet.com sky.com virginmedia.com talktalk.net ntlworld.com shaw.ca rogers.com sympatico.ca
    telus.net xtra.co.nz eircom.net telenet.be skynet.be home.nl ziggo.nl kpnmail.nl planet.nl
    chello.nl bluewin.ch hispeed.ch sunrise.ch a1.net aon.at chello.at telia.com spray.se
    online.no inbox.lv inbox.lt mail.ee zoznam.sk azet.sk post.cz volny.cz freemail.hu citromail.hu
    yahoo.com.cn yahoo.cn vip.sohu.com 2980.com eyou.com""".split()
)
# Free-mail brands that exist under many country domains: yahoo.co.uk, hotmail.fr, outlook.de…
_FREE_MAIL_BRANDS = frozenset("yahoo hotmail outlook live gmx yandex aol windowslive".split())
# Hosts shared by many companies (B2B shop fronts, social networks, site builders): the host alone
# says nothing about the company, so it is no key (a sub-domain of one, like hengda.en.alibaba.com,
# is kept whole).
SHARED_HOSTS = frozenset(
    """alibaba.com en.alibaba.com 1688.com aliexpress.com made-in-china.com globalsources.com
    tradeindia.com indiamart.com dhgate.com ec21.com tradekey.com amazon.com ebay.com etsy.com
    facebook.com fb.com linkedin.com instagram.com twitter.com x.com youtube.com tiktok.com wa.me
    whatsapp.com wechat.com weibo.com vk.com t.me telegram.me sites.google.com google.com goo.gl
    wixsite.com wix.com blogspot.com wordpress.com github.io weebly.com jimdo.com jimdofree.com
    squarespace.com shopify.com myshopify.com tumblr.com medium.com business.site company.site
    yolasite.com webnode.com strikingly.com carrd.co notion.site linktr.ee bit.ly""".split()
)
# Second-level labels under which a registrable domain has three labels: acme.co.uk, acme.com.cn.
_SECOND_LEVEL = frozenset("co com net org gov edu ac or ne go gob ltd plc sch nom biz info".split())


def _registrable(host: str) -> str:
    """ "sales.acme.co.uk" → "acme.co.uk" (an approximation of the public suffix list that is right
    for company domains); platform sub-domains stay whole."""
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    for n in (3, 2):
        parent = ".".join(labels[-n:])
        if parent in SHARED_HOSTS:
            # hengda.en.alibaba.com: the shop's own sub-domain is the company
            return ".".join(labels[-(n + 1) :]) if len(labels) > n else host
    if labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _idna(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


_SIMPLE_URL = re.compile(r"(?:https?://)?(?:www\.)?((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})/?(?:[/?#][^@]*)?$")


def website_host(url: str) -> str:
    """ "https://www.Acme.de/en" → "acme.de": the host, lower case, without "www.", port, path or
    user, internationalised names in their xn-- form."""
    text = (url or "").strip()
    if not text:
        return ""
    m = _SIMPLE_URL.match(text)
    if m:  # the common "https://www.acme.de" / "https://acme.de/en" in one regex
        return m.group(1).lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    elif text.startswith("//"):
        text = text[2:]
    for sep in "/?#":
        text = text.split(sep, 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(". ")
    for prefix in ("www.", "www1.", "www2.", "www3.", "ww."):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if "." not in text or " " in text:
        return ""
    return _idna(text)


def is_free_mail(domain: str) -> bool:
    if domain in FREE_MAIL_DOMAINS:
        return True
    labels = domain.split(".")
    return len(labels) >= 2 and labels[0] in _FREE_MAIL_BRANDS


@lru_cache(maxsize=4096)
def email_domain_key(email_or_domain: str) -> str:
    """The company domain of an address or a domain: "Sales@Mail.Acme.de" → "acme.de"; "" for free
    mail (gmail.com, 163.com, qq.com, yahoo.co.uk, …) and for shared platform hosts."""
    text = (email_or_domain or "").strip().lower()
    if not text:
        return ""
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    host = website_host(text)
    if not host or is_free_mail(host):
        return ""
    return domain_key(host)


@lru_cache(maxsize=4096)
def domain_key(host: str) -> str:
    """The key of a website host or mail domain: its registrable domain; "" for shared hosts."""
    if not host or host in SHARED_HOSTS or is_free_mail(host):
        return ""
    reg = _registrable(host)
    if reg in SHARED_HOSTS or is_free_mail(reg):
        return ""
    return reg


# ---------------------------------------------------------------------------------------------
# tax ids

# The EU VAT module wants the country prefix; Greece writes EL.
_EU = frozenset(
    "AT BE BG CY CZ DE DK EE EL ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI".split()
)
# Per country, the python-stdnum modules to try, in order (the first that accepts the number wins).
_TAX_MODULES: dict[str, tuple[str, ...]] = {
    "CN": ("uscc", "ric"),
    "US": ("ein", "tin"),
    "GB": ("vat", "utr"),
    "IN": ("gstin", "pan"),
    "BR": ("cnpj", "cpf"),
    "MX": ("rfc",),
    "AU": ("abn", "acn", "tfn"),
    "CA": ("bn",),
    "RU": ("inn",),
    "TR": ("vkn", "tckimlik"),
    "ID": ("npwp",),
    "MY": ("nric",),
    "KR": ("brn",),
    "JP": ("cn",),
    "TW": ("ubn",),
    "AR": ("cuit",),
    "CL": ("rut",),
    "CO": ("nit",),
    "PE": ("ruc",),
    "EC": ("ruc",),
    "ZA": ("vat", "tin"),
    "TH": ("tin",),
    "VN": ("mst",),
    "SG": ("uen",),
    "NZ": ("ird",),
    "IL": ("hp",),
    "UA": ("edrpou",),
    "CH": ("vat", "uid"),
    "NO": ("mva", "orgnr"),
    "EG": ("tn",),
    "AE": ("trn",),
    "SA": ("vat",),
}


@lru_cache(maxsize=256)
def _tax_modules(country: str) -> tuple:
    from stdnum.util import get_cc_module

    cc = country.lower()
    names = _TAX_MODULES.get(country, ("vat", "tin"))
    if country in _EU:
        names = ("vat", *[n for n in names if n != "vat"])
    mods = []
    for n in names:
        try:
            mod = get_cc_module(cc, n)
        except Exception:  # noqa: BLE001 — stdnum raises various errors for unknown modules
            mod = None
        if mod is not None and hasattr(mod, "is_valid"):
            mods.append(mod)
    return tuple(mods)


def tax_id_checkable(country: str) -> bool:
    """True when python-stdnum knows a tax/VAT number format for `country`."""
    return bool(country) and bool(_tax_modules(country.upper()))


def normalize_tax_id(raw: str, country: str) -> tuple[str, bool]:
    """(compact form, valid) of a tax/VAT id: "DE 123.456.789" + "DE" → ("DE123456789", True/False).
    EU VAT numbers keep (or get) their country prefix; others are compacted by their national module.
    Without a known format for `country`, the compact form is upper-case letters and digits, and
    valid is False."""
    text = (raw or "").strip()
    if not text:
        return "", False
    country = (country or "").upper()
    plain = re.sub(r"[^0-9A-Za-z]", "", unicodedata.normalize("NFKC", text)).upper()
    if not country and len(plain) > 2 and plain[:2].isalpha() and (plain[:2] in _EU):
        country = "GR" if plain[:2] == "EL" else plain[:2]
    if country in _EU or country == "GB":
        prefix = "EL" if country == "GR" else country
        candidate = plain if plain[:2] == prefix or plain[:2] == country else prefix + plain
        try:
            from stdnum.eu import vat

            compact = vat.compact(candidate)
            if vat.is_valid(compact):
                return compact, True
        except Exception:  # noqa: BLE001
            pass
    for mod in _tax_modules(country) if country else ():
        try:
            compact = mod.compact(text)
        except Exception:  # noqa: BLE001
            continue
        if mod.is_valid(compact):
            return compact.upper(), True
    if country in _EU or country == "GB":
        prefix = "EL" if country == "GR" else country
        return (plain if plain[:2] in (prefix, country) else prefix + plain), False
    return plain, False


# ---------------------------------------------------------------------------------------------
# people


@lru_cache(maxsize=65536)
def normalize_person_name(first: str = "", last: str = "", local: str = "") -> str:
    """A person's name as sorted words, folded: "Wei ZHANG" = "Zhang Wei"; a name in Chinese script
    alone becomes pinyin words ("张伟" → "wei zhang")."""
    text = _fold(f"{first} {last}".strip())
    if not text and local:
        text = _fold(local)
        if _has_cjk(text):
            # per character: given names are no phrases
            syll = [p for p in (_char_pinyin(c) for c in text if _CJK_RUN.match(c)) if p]
            # Chinese order: surname first, then the given name in one word
            text = f"{syll[0]} {''.join(syll[1:])}" if len(syll) > 1 else " ".join(syll)
    words = _NON_WORD.sub(" ", text).split()
    return " ".join(sorted(words))
