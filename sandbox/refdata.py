"""Reference data the sandbox validates against (sandbox choices, listed in sandbox/README.md).

Binance's real lists are longer and change; these are fixed so tests are reproducible.
"""

from __future__ import annotations

from decimal import Decimal

# Order currencies (docs/binance-pay.md#create-order: the page names BUSD, USDT, MBOX; the changelog
# adds USDC).
ORDER_CURRENCIES = frozenset({"USDT", "USDC", "BUSD", "BNB", "BTC", "ETH", "MBOX", "FDUSD"})

# Fiat currencies accepted in fiatCurrency, with the fixed rate: 1 unit of fiat = rate USDT.
# HKD is chosen so that fiatAmount 100 HKD gives totalFee 12.77377391, as in the doc sample.
FIAT_RATES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "HKD": Decimal("0.1277377391"),
    "JPY": Decimal("0.0067"),
    "CNY": Decimal("0.138"),
    "AUD": Decimal("0.66"),
    "CAD": Decimal("0.73"),
    "CHF": Decimal("1.13"),
    "SGD": Decimal("0.74"),
    "NZD": Decimal("0.61"),
    "KRW": Decimal("0.00075"),
    "INR": Decimal("0.012"),
    "BRL": Decimal("0.2"),
    "TRY": Decimal("0.031"),
    "NGN": Decimal("0.00065"),
    "PHP": Decimal("0.018"),
    "IDR": Decimal("0.000064"),
    "THB": Decimal("0.028"),
    "VND": Decimal("0.00004"),
    "UAH": Decimal("0.024"),
    "ARS": Decimal("0.0011"),
    "MXN": Decimal("0.058"),
    "PLN": Decimal("0.25"),
    "CZK": Decimal("0.044"),
    "SEK": Decimal("0.095"),
    "NOK": Decimal("0.094"),
    "DKK": Decimal("0.145"),
    "AED": Decimal("0.2723"),
    "ZAR": Decimal("0.054"),
    "KZT": Decimal("0.0021"),
}

# Price of each coin in USDT, used when a payer pays in another coin (paymentInstructions.price).
COIN_PRICES_USDT: dict[str, Decimal] = {
    "USDT": Decimal("1"),
    "USDC": Decimal("1"),
    "BUSD": Decimal("1"),
    "FDUSD": Decimal("1"),
    "BNB": Decimal("600"),
    "BTC": Decimal("60000"),
    "ETH": Decimal("3000"),
    "LTC": Decimal("92.52211938"),
    "MBOX": Decimal("0.1"),
}

TERMINAL_TYPES = frozenset({"APP", "WEB", "WAP", "MINI_PROGRAM", "OTHERS"})
OS_TYPES = frozenset({"IOS", "ANDROID"})
GOODS_TYPES = frozenset({"01", "02"})
_CATEGORY_TABLE = (
    "0000 1000 2000 3000 4000 5000 6000 7000 8000 9000 A000 B000 C000 D000 E000 F000 Z000"
)
GOODS_CATEGORIES = frozenset(_CATEGORY_TABLE.split())
SHIPPING_ADDRESS_TYPES = frozenset({"01", "02", "03", "04"})

# ISO 3166-1 alpha-2, all 249 officially assigned codes.
_REGION_TABLE = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
ZW
"""
REGIONS = frozenset(_REGION_TABLE.split())
