"""Code lists the request serializers accept (Binance's Create Order v2 docs page:
docs/binance-pay.md#create-order)."""

from __future__ import annotations

# Order currencies (orderAmount+currency). docs/binance-pay.md#create-order names BUSD, USDT, MBOX;
# the changelog added USDC for MiCA users (2025-02). The rest are coins Binance Pay settles;
# paysvc's choice.
SUPPORTED_CRYPTO = frozenset({"USDT", "USDC", "BUSD", "FDUSD", "BNB", "BTC", "ETH", "MBOX"})

# Fiat for fiatAmount+fiatCurrency (ISO 4217). docs/binance-pay.md#create-order only links to
# Binance's list ("ex: HKD"); these are the codes the sandbox (our stand-in for Binance,
# sandbox/refdata.py FIAT_RATES) accepts: a code outside them is refused by Binance after paysvc
# said OK (tests/contract). Keep in step with sandbox/README.md "Fiat currencies" and with Binance's
# published list.
SUPPORTED_FIAT = frozenset(
    {
        "AED", "ARS", "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD",
        "IDR", "INR", "JPY", "KRW", "KZT", "MXN", "NGN", "NOK", "NZD", "PHP", "PLN", "SEK",
        "SGD", "THB", "TRY", "UAH", "USD", "VND", "ZAR",
    }
)  # fmt: skip

# docs/binance-pay.md#create-order: env.terminalType and env.osType.
TERMINAL_TYPES = ("APP", "WEB", "WAP", "MINI_PROGRAM", "OTHERS")
MINI_PROGRAM = "MINI_PROGRAM"
OS_TYPES = ("IOS", "ANDROID")

# docs/binance-pay.md#create-order: goods.goodsType -- 01 tangible goods, 02 virtual goods.
GOODS_TYPES = ("01", "02")

# docs/binance-pay.md#create-order: goods.goodsCategory, the full list.
GOODS_CATEGORIES = (
    "0000",  # Electronics & Computers
    "1000",  # Books, Music & Movies
    "2000",  # Home, Garden & Tools
    "3000",  # Clothes, Shoes & Bags
    "4000",  # Toys, Kids & Baby
    "5000",  # Automotive & Accessories
    "6000",  # Game & Recharge
    "7000",  # Entertainment & Collection
    "8000",  # Jewelry
    "9000",  # Domestic service
    "A000",  # Beauty care
    "B000",  # Pharmacy
    "C000",  # Sports & Outdoors
    "D000",  # Food, Grocery & Health products
    "E000",  # Pet supplies
    "F000",  # Industry & Science
    "Z000",  # Others
)

# docs/binance-pay.md#create-order: shipping.shippingAddress.shippingAddressType -- office, home,
# public box, others.
SHIPPING_ADDRESS_TYPES = ("01", "02", "03", "04")

# Binance Query Order v2 statuses (docs/binance-pay.md#order-statuses), for the order list filter.
ORDER_STATUSES = (
    "INITIAL",
    "PENDING",
    "PAID",
    "CANCELED",
    "ERROR",
    "REFUNDING",
    "REFUNDED",
    "FULL_REFUNDED",
    "EXPIRED",
)

# ISO 3166-1 alpha-2: all 249 officially assigned codes (user-assigned XK is not included).
ISO_3166_ALPHA2 = frozenset(
    {
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
        "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
        "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG",
        "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ",
        "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI",
        "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
        "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR",
        "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
        "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
        "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
        "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU",
        "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
        "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR",
        "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
        "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
        "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
        "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
        "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
    }
)  # fmt: skip
