"""Regions (大区), provinces (GB/T 2260 codes) and cities of the sample dealer network, and the
brand's model range."""

from __future__ import annotations

# region -> [(province, province code, weight of car sales, [(city, 4-digit city code)])]
REGIONS: dict[str, list[tuple[str, int, float, list[tuple[str, int]]]]] = {
    "东区": [
        ("上海", 31, 5.0, [("上海", 3101)]),
        ("江苏", 32, 8.0, [("南京", 3201), ("无锡", 3202), ("苏州", 3205)]),
        ("浙江", 33, 7.5, [("杭州", 3301), ("宁波", 3302), ("温州", 3303)]),
        ("安徽", 34, 3.5, [("合肥", 3401), ("芜湖", 3402)]),
        ("山东", 37, 7.0, [("济南", 3701), ("青岛", 3702), ("烟台", 3706)]),
    ],
    "南区": [
        ("广东", 44, 10.0, [("广州", 4401), ("深圳", 4403), ("佛山", 4406), ("东莞", 4419)]),
        ("福建", 35, 3.5, [("福州", 3501), ("厦门", 3502)]),
        ("广西", 45, 2.5, [("南宁", 4501), ("柳州", 4502)]),
        ("海南", 46, 1.0, [("海口", 4601)]),
    ],
    "北区": [
        ("北京", 11, 4.5, [("北京", 1101)]),
        ("天津", 12, 2.0, [("天津", 1201)]),
        ("河北", 13, 4.0, [("石家庄", 1301), ("唐山", 1302)]),
        ("辽宁", 21, 3.0, [("沈阳", 2101), ("大连", 2102)]),
        ("黑龙江", 23, 1.5, [("哈尔滨", 2301)]),
    ],
    "中区": [
        ("河南", 41, 5.0, [("郑州", 4101), ("洛阳", 4103)]),
        ("湖北", 42, 3.5, [("武汉", 4201), ("宜昌", 4205)]),
        ("湖南", 43, 3.0, [("长沙", 4301)]),
        ("江西", 36, 2.0, [("南昌", 3601)]),
    ],
    "西区": [
        ("四川", 51, 5.0, [("成都", 5101), ("绵阳", 5107)]),
        ("重庆", 50, 2.5, [("重庆", 5001)]),
        ("陕西", 61, 2.5, [("西安", 6101)]),
        ("云南", 53, 2.0, [("昆明", 5301)]),
    ],
}

# flattened: one row per city
CITIES: list[dict] = [
    {
        "region": region,
        "province": prov,
        "province_code": pcode,
        "weight": w / len(cities),
        "city": city,
        "city_code": ccode,
    }
    for region, provinces in REGIONS.items()
    for prov, pcode, w, cities in provinces
    for city, ccode in cities
]

DEALER_GROUPS = [
    "华骏",
    "恒通",
    "永达",
    "广汇",
    "中升",
    "庞大",
    "利星",
    "元通",
    "万达",
    "大昌",
    "鑫源",
    "宝泽",
]
BRAND = "华驰"

# model_code, model_name, seats, VIN positions 4-8 (VDS), share of sales, EV?
MODELS: list[tuple[str, str, int, str, float]] = [
    ("HC3", "华驰 H3 轿车", 5, "A3B1C", 0.22),
    ("HC5", "华驰 H5 轿车", 5, "A5B2C", 0.20),
    ("HS5", "华驰 S5 SUV", 5, "S5B3D", 0.18),
    ("HS7", "华驰 S7 SUV", 5, "S7B4D", 0.14),
    ("HM8", "华驰 M8 MPV", 7, "M8B5E", 0.08),
    ("HE5", "华驰 E5 纯电", 5, "E5B6F", 0.10),
    ("HV11", "华驰 V11 商务车", 11, "V1B7G", 0.04),
    ("HT5", "华驰 H5 出租版", 5, "A5T2C", 0.04),  # taxis: usage 营运
]
WMI = "LHJ"  # fictional world manufacturer identifier
PLANTS = "ABCDEFGHJK"
