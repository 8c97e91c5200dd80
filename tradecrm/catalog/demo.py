"""Demo catalogue: realistic export products (names in English and Chinese, HS codes, packing,
purchase costs with VAT and rebate rates, Chinese suppliers) and two price lists, FOB USD and
EUR, with quantity breaks. Everything goes through the services, so it is validated like user
input. Reruns add only the SKUs that are missing."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from .models import PriceList, Product
from .services import price_list_create, price_set, product_create

# sku, name_en, name_zh, category, hs, unit, spec, moq, per carton, (L, W, H cm), gross, net,
# cost CNY (VAT incl.), VAT %, rebate %, supplier, FOB USD
FAMILIES = (
    ("VF", "Stainless steel vacuum flask 500 ml", "不锈钢真空保温杯 500毫升", "Drinkware", "9617.00.90", "pcs",
     "18/8 stainless steel, double wall, keeps hot 12 h, powder coated", 500, 24, (52, 35, 26), 9.6, 8.4,
     28.5, 13, 13, "永康市恒达杯业有限公司", 5.80),
    ("MG", "Ceramic coffee mug 350 ml", "陶瓷马克杯 350毫升", "Drinkware", "6912.00.10", "pcs",
     "Stoneware, glazed, dishwasher and microwave safe", 1000, 36, (45, 30, 28), 12.5, 11.0,
     6.8, 13, 13, "潮州市枫溪区华艺陶瓷厂", 1.35),
    ("LP", "LED panel light 600×600 mm 40 W", "LED平板灯 600×600毫米 40瓦", "Lighting", "9405.11.00", "pcs",
     "4000 lm, 4000 K, CRI>80, flicker-free driver, CE RoHS", 100, 4, (62, 62, 18), 10.2, 9.0,
     58, 13, 13, "中山市古镇明辉照明电器厂", 11.50),
    ("SI", "Hybrid solar inverter 5 kW", "太阳能混合逆变器 5千瓦", "Solar", "8504.40.90", "pcs",
     "48 V battery, MPPT 2×, pure sine wave, WiFi monitoring", 10, 1, (60, 45, 28), 22.0, 18.5,
     3450, 13, 13, "宁波锦浪新能源科技有限公司", 680),
    ("BP", "Ceramic brake pads, front axle", "陶瓷刹车片（前轮）", "Auto parts", "8708.30.29", "set",
     "Low dust, low noise, ECE R90, with shims and wear sensor", 200, 20, (40, 30, 25), 18.0, 17.0,
     38, 13, 13, "瑞安市飞达汽配有限公司", 7.20),
    ("TS", "Cotton T-shirt, 180 g/m²", "纯棉T恤 180克", "Apparel", "6109.10.00", "pcs",
     "100% combed cotton jersey, crew neck, sizes S–XXL", 500, 100, (60, 40, 35), 19.0, 18.0,
     14.5, 13, 13, "绍兴柯桥宏达针织服饰有限公司", 2.85),
    ("LB", "LED bulb A60 9 W E27", "LED球泡灯 A60 9瓦 E27", "Lighting", "8539.52.00", "pcs",
     "806 lm, 2700 K, 15,000 h, frosted PC cover", 3000, 100, (52, 42, 26), 6.5, 5.2,
     3.2, 13, 13, "余姚市阳明照明有限公司", 0.62),
    ("SP", "Silicone kitchen spatula", "硅胶刮刀", "Kitchenware", "3924.10.00", "pcs",
     "Food-grade silicone, heat resistant to 230 °C, stainless core", 2000, 200, (58, 38, 30), 14.0, 12.5,
     2.9, 13, 13, "阳江市金厨五金塑料制品厂", 0.55),
    ("CB", "Bamboo cutting board 38 × 28 cm", "竹制砧板 38×28厘米", "Kitchenware", "4419.11.00", "pcs",
     "Carbonised Moso bamboo, juice groove, food-safe oil finish", 500, 20, (40, 30, 35), 21.0, 20.0,
     18, 13, 9, "安吉县竹乡竹木制品有限公司", 3.60),
    ("CW", "Stainless steel cookware set, 12 pieces", "不锈钢锅具套装 12件", "Kitchenware", "7323.93.00", "set",
     "Tri-ply base, induction ready, glass lids, gift box", 100, 2, (55, 35, 40), 14.0, 12.6,
     165, 13, 13, "潮安区彩塘镇宏兴不锈钢制品厂", 32.0),
    ("NG", "Nitrile examination gloves, box of 100", "丁腈检查手套 100只装", "Safety", "4015.12.00", "box",
     "Powder-free, 3.5 g, sizes S–XL, EN 455, EN 374", 1000, 10, (34, 25, 24), 7.0, 6.2,
     22, 13, 13, "淄博蓝帆防护用品有限公司", 3.90),
    ("UC", "USB-C wall charger 20 W", "USB-C充电器 20瓦", "Electronics", "8504.40.90", "pcs",
     "PD 3.0, EU/UK/US plug, CE FCC UKCA", 1000, 100, (45, 35, 30), 9.0, 8.0,
     12.5, 13, 13, "深圳市宝安区新能电子有限公司", 2.30),
    ("BE", "True wireless earbuds", "真无线蓝牙耳机", "Electronics", "8518.30.00", "pcs",
     "Bluetooth 5.3, ENC, 30 h with case, USB-C", 500, 50, (45, 35, 30), 6.0, 5.0,
     38, 13, 13, "东莞市声韵电子科技有限公司", 7.50),
    ("GH", "Expandable garden hose 15 m", "伸缩花园水管 15米", "Garden", "3917.32.00", "pcs",
     "Latex inner tube, polyester sleeve, 8-pattern spray nozzle", 300, 6, (45, 45, 30), 15.0, 14.0,
     42, 13, 13, "台州市黄岩园林工具厂", 7.80),
    ("YM", "TPE yoga mat 6 mm", "TPE瑜伽垫 6毫米", "Sports", "9506.91.00", "pcs",
     "183 × 61 cm, double-sided texture, carry strap", 300, 10, (62, 32, 32), 11.0, 10.0,
     35, 13, 13, "义乌市健美体育用品有限公司", 6.40),
    ("TB", "Recycled polyester tote bag", "再生涤纶购物袋", "Bags", "4202.92.20", "pcs",
     "rPET 210D, foldable into pouch, custom print 1 colour", 3000, 200, (50, 40, 30), 12.0, 11.0,
     2.4, 13, 13, "温州市龙港镇环宇包装有限公司", 0.48),
    ("WB", "Steel wheelbarrow 100 L", "钢制手推车 100升", "Garden", "8716.80.00", "pcs",
     "0.8 mm steel tray, 16\" pneumatic wheel, knocked down", 100, 1, (80, 62, 20), 17.0, 16.0,
     160, 13, 13, "青岛华盛工具有限公司", 29.0),
    ("VP", "SPC vinyl click flooring 5 mm", "SPC石塑锁扣地板 5毫米", "Building materials", "3918.10.90", "m2",
     "0.5 mm wear layer, IXPE underlay, waterproof, oak look", 1000, 2, (123, 19, 5), 22.0, 21.5,
     42, 13, 13, "常州市武进区新龙地板厂", 6.90),
    ("CD", "Cordless drill 18 V", "无绳电钻 18伏", "Tools", "8467.21.00", "pcs",
     "Brushless, 2 × 2.0 Ah Li-ion, 45 N·m, in blow-moulded case", 200, 6, (48, 36, 30), 12.0, 10.5,
     125, 13, 13, "金华市永康锐力电动工具有限公司", 22.0),
    ("GJ", "Glass storage jar 1 L", "玻璃储物罐 1升", "Kitchenware", "7013.49.00", "pcs",
     "Borosilicate glass, bamboo lid with silicone seal", 1000, 24, (50, 34, 28), 15.0, 13.0,
     6.5, 13, 13, "徐州市华兴玻璃制品有限公司", 1.25),
)  # fmt: skip
VARIANTS = (("", "", 1.0), ("Black", "黑色", 1.0), ("White", "白色", 1.0), ("Grey", "灰色", 1.04),
            ("Blue", "蓝色", 1.04))  # fmt: skip
EUR_PER_USD = Decimal("0.92")
BREAKS = ((1, Decimal("1")), (5, Decimal("0.96")), (20, Decimal("0.92")))  # × MOQ, price factor


def _d(value, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def demo_product_data(n: int = 40) -> list[tuple[dict, Decimal]]:
    """(service data, FOB USD price) for n products: each family once, then in colour variants."""
    out: list[tuple[dict, Decimal]] = []
    for round_ in range(len(VARIANTS)):
        suffix_en, suffix_zh, factor = VARIANTS[round_]
        for fam in FAMILIES:
            if len(out) >= n:
                return out
            (code, name_en, name_zh, category, hs, unit, spec, moq, per_ctn, (length, width, height), gross, net,
             cost, vat, rebate, supplier, usd) = fam  # fmt: skip
            sku = f"{code}-{100 + round_:03d}"
            data = {
                "sku": sku,
                "name_en": f"{name_en}, {suffix_en.lower()}" if suffix_en else name_en,
                "name_zh": f"{name_zh}（{suffix_zh}）" if suffix_zh else name_zh,
                "specification": spec,
                "category": category,
                "hs_code": hs,
                "unit": unit,
                "moq": moq,
                "units_per_carton": per_ctn,
                "carton_length_cm": length,
                "carton_width_cm": width,
                "carton_height_cm": height,
                "carton_gross_weight_kg": gross,
                "carton_net_weight_kg": net,
                "purchase_cost_cny": _d(cost * factor),
                "vat_rate": vat,
                "tax_rebate_rate": rebate,
                "supplier": supplier,
                "packing_notes": "Export carton, 5-ply, shipping marks on two sides",
            }
            out.append((data, _d(usd * factor, "0.0001")))
    return out


@transaction.atomic
def demo_products(n: int = 40, *, actor=None) -> int:
    """Create up to n demo products (those whose SKU is missing) with prices on "FOB Ningbo USD
    <year>" and "EU distributors EUR <year>". Returns how many products were created."""
    year = timezone.localdate().year
    lists = {}
    for name, currency in ((f"FOB Ningbo USD {year}", "USD"), (f"EU distributors EUR {year}", "EUR")):
        lists[currency] = PriceList.objects.filter(name=name).first() or price_list_create(
            actor=actor,
            data={
                "name": name,
                "currency": currency,
                "valid_from": f"{year}-01-01",
                "valid_until": f"{year}-12-31",
            },
        )
    have = set(Product.objects.values_list("sku", flat=True))
    created = 0
    for data, usd in demo_product_data(n):
        if data["sku"] in have:
            continue
        product = product_create(actor=actor, data=data)
        created += 1
        for multiple, factor in BREAKS:
            qty = 1 if multiple == 1 else product.moq * multiple
            price_set(actor=actor, price_list=lists["USD"], product=product, unit_price=_d(usd * factor, "0.0001"),
                      min_quantity=qty)  # fmt: skip
            price_set(actor=actor, price_list=lists["EUR"], product=product,
                      unit_price=_d(usd * factor * EUR_PER_USD, "0.0001"), min_quantity=qty)  # fmt: skip
    return created
