"""Meanings of eSMS, Zalo and tracker codes, their classes and advice, table by table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.esms import codes
from tracker.esms.code_table import CLASSES, ESMS
from tracker.esms.zalo_table import ZALO

# Every code of REFERENCE section 3.
REFERENCE_CODES = [
    "99",
    "100",
    "101",
    "102",
    "103",
    "108",
    "118",
    "124",
    "140",
    "143",
    "160",
    "204",
    "789",
    "790",
    "791",
    "799",
    "801",
    "802",
    "105",
    "851",
    "854",
]


@pytest.mark.parametrize("code", REFERENCE_CODES)
def test_every_reference_code_has_a_meaning(code):
    assert code in codes.CODE_RESULTS
    assert codes.describe(code) == codes.CODE_RESULTS[code]
    assert not codes.describe(code).startswith("Unknown")


# Every CodeResult of eSMS's esms-api/bang-ma-loi.md (devesms/gitbook_esms_for_develop_v2), in its order.
BANG_MA_LOI = [
    "99",
    "100",
    "101",
    "102",
    "103",
    "104",
    "105",
    "106",
    "107",
    "108",
    "110",
    "115",
    "118",
    "120",
    "124",
    "140",
    "143",
    "146",
    "160",
    "163",
    "171",
    "177",
    "199",
    "201",
    "204",
    "210",
    "300",
    "301",
    "687",
    "789",
    "790",
    "791",
    "799",
    "801",
    "802",
    "851",
    "854",
]

# Zalo's ZNS table (developers.zalo.me/docs/zbs-template-message/bang-ma-loi), the codes the
# tracker reads; plus eSMS's own ErrorInfo 1001 (ham-lay-thong-tin-trang-thai-zns-1.md).
ZALO_TABLE = ["0"] + [str(-n) for n in range(100, 152)] + ["-153", "-1121", "-1122", "-1123", "-1124", "-1491", "1001"]


def test_esms_table_is_exactly_bang_ma_loi():
    assert list(ESMS) == BANG_MA_LOI
    assert set(codes.CODE_RESULTS) == set(BANG_MA_LOI) >= set(REFERENCE_CODES)


# The codes of Zalo's "Cách xử lý mã lỗi" (https://zalo.cloud/zns/guidelines/handle-error-code,
# stored copy of 2026-11-30), transcribed from the part of that copy that could be read: it
# stops inside the row of -112. Extend this list from the page when the rest can be read.
ZALO_CLOUD_PAGE = ["0"] + [str(-n) for n in range(100, 113)]


def test_zalo_table_has_every_published_code():
    assert set(ZALO) == set(ZALO_TABLE)
    assert set(codes.ZALO_ERRORS) == set(ZALO_TABLE)


def test_zalo_table_has_every_code_of_zalos_own_page():
    assert set(ZALO_CLOUD_PAGE) <= set(ZALO)
    assert ZALO["0"].cls == "ok" and ZALO["-100"].cls == "retry_later"


@pytest.mark.parametrize("table", [ESMS, ZALO], ids=["esms", "zalo"])
def test_every_entry_is_bilingual_and_classed(table):
    for code, entry in table.items():
        assert entry.vi and entry.en and entry.vi != entry.en, code
        assert entry.cls in CLASSES and entry.cls != "unknown", code
        # Only retry_later says when, and it always does.
        assert (entry.when is not None) == (entry.cls == "retry_later"), code
        assert codes.advice(code) and codes.error_class(code) == entry.cls


@pytest.mark.parametrize(
    "code, cls",
    [
        # Account: pauses sending for the whole account (issue 11, point 5).
        ("101", "account"),
        ("102", "account"),
        ("103", "account"),
        ("140", "account"),
        ("143", "account"),
        # OA: pauses that OA.
        ("204", "oa"),
        ("799", "oa"),
        ("802", "oa"),
        ("789", "template"),
        ("790", "template"),
        ("791", "template"),
        ("124", "final"),
        ("108", "final"),
        ("100", "ok"),
        ("0", "ok"),
        ("-133", "retry_later"),
        ("-144", "retry_later"),
        ("-147", "retry_later"),
        ("-100", "retry_later"),
        ("-141", "unreachable"),
        ("-114", "unreachable"),
        ("-118", "unreachable"),
        ("-139", "unreachable"),
        ("1001", "unreachable"),
        ("-146", "template"),
        ("-1121", "template"),
        ("-1124", "template"),
        ("-148", "template"),
        ("-149", "template"),
        ("-150", "template"),
        ("-1491", "template"),
        ("transport", "retry_later"),
        ("http_503", "retry_later"),
        ("timeout", "final"),
        ("12345", "unknown"),
        ("-999", "unknown"),
    ],
)
def test_classes(code, cls):
    assert codes.error_class(code) == cls


def test_no_code_no_class():
    assert codes.error_class(None) is None and codes.advice(None) is None


@pytest.mark.parametrize(
    "code, words",
    [
        ("-133", "06:00 Vietnam time"),
        ("-144", "next day"),
        ("-147", "next day"),
        ("101", "pauses for the whole account"),
        ("799", "pauses for that OA"),
        ("-141", "another way"),
        ("790", "template"),
        ("124", "Nothing to do"),
        ("12345", "neither eSMS's nor Zalo's table"),
    ],
)
def test_advice(code, words):
    assert words in codes.advice(code)


def test_vietnamese_meanings():
    assert codes.describe_vi("103") == ESMS["103"].vi and "số dư" in codes.describe_vi("103").lower()
    assert codes.describe_vi("-133").startswith("Mẫu ZNS") and codes.describe_vi("x").endswith("x")


UTC = UTC


@pytest.mark.parametrize(
    "code, now, expected",
    [
        # 23:30 Vietnam time (16:30 UTC): the night window ends at 06:00 next morning (23:00 UTC).
        ("-133", datetime(2026, 11, 30, 16, 30, tzinfo=UTC), datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
        # 03:00 Vietnam time (20:00 UTC the day before): the same morning's 06:00.
        ("-133", datetime(2026, 11, 29, 20, 0, tzinfo=UTC), datetime(2026, 11, 29, 23, 0, tzinfo=UTC)),
        # In the day: at once.
        ("-133", datetime(2026, 11, 30, 5, 0, tzinfo=UTC), datetime(2026, 11, 30, 5, 0, tzinfo=UTC)),
        # Quota: Vietnam's next midnight (17:00 UTC).
        ("-144", datetime(2026, 11, 30, 5, 0, tzinfo=UTC), datetime(2026, 11, 30, 17, 0, tzinfo=UTC)),
        ("-147", datetime(2026, 11, 30, 18, 0, tzinfo=UTC), datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
        ("101", datetime(2026, 11, 30, 5, 0, tzinfo=UTC), None),
        ("transport", datetime(2026, 11, 30, 5, 0, tzinfo=UTC), None),
    ],
)
def test_retry_after(code, now, expected):
    assert codes.retry_after(code, now) == expected


@pytest.mark.parametrize(
    "code, scope",
    [
        ("101", "account"),
        ("103", "account"),
        ("140", "account"),
        ("143", "account"),
        ("102", "account"),
        ("204", "oa"),
        ("799", "oa"),
        ("802", "oa"),
        ("790", None),
        ("100", None),
        ("124", None),
        ("-115", None),
        ("-124", None),
        (None, None),
    ],
)
def test_only_send_codes_pause(code, scope):
    assert codes.pauses(code) == scope


@pytest.mark.parametrize(
    "code, words",
    [
        ("100", "accepted"),
        ("101", "ApiKey"),
        ("124", "Duplicate RequestId"),
        ("789", "Template not configured"),
        ("-108", "Phone number is invalid"),
        ("-114", "inactive"),
        ("-118", "does not exist"),
        ("-124", "access token"),
        ("-131", "not approved"),
        ("1001", "not online"),
        ("0", "Delivered"),
        ("transport", "transport failures"),
        ("timeout", "No final status"),
        ("send_failed", "failed"),
        ("status4", "SendStatus 4"),
        ("connection", "connect"),
        ("bad_response", "could not be understood"),
        ("http_503", "HTTP 503"),
        ("http_429", "HTTP 429"),
    ],
)
def test_describe_known_codes(code, words):
    assert words.lower() in codes.describe(code).lower()


@pytest.mark.parametrize(
    "code, expected",
    [
        ("12345", "Unknown code 12345"),
        ("-999", "Unknown code -999"),
        ("http_abc", "Unknown code http_abc"),
        ("", "Unknown code "),
        (None, "No code"),
    ],
)
def test_describe_unknown_codes(code, expected):
    assert codes.describe(code) == expected


@pytest.mark.parametrize("code", [" 101 ", " -114"])
def test_describe_ignores_surrounding_space(code):
    assert codes.describe(code) == codes.describe(code.strip())


@pytest.mark.parametrize("table", [codes.CODE_RESULTS, codes.ZALO_ERRORS, codes.OWN_CODES, codes.CLIENT_CODES])
def test_tables_are_plain_words(table):
    for code, meaning in table.items():
        assert code == code.strip() and meaning and meaning == meaning.strip()


def test_own_codes_do_not_collide_with_esms_or_zalo_codes():
    assert not set(codes.OWN_CODES) & (set(codes.CODE_RESULTS) | set(codes.ZALO_ERRORS))
    assert not set(codes.CODE_RESULTS) & set(codes.ZALO_ERRORS)
