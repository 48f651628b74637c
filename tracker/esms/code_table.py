"""eSMS CodeResult table, in Vietnamese and English, each code with a class (pure data).

Source: eSMS's developer documentation, page ``esms-api/bang-ma-loi.md`` ("Bảng mã lỗi") of
devesms/gitbook_esms_for_develop_v2. The wording is ours (a paraphrase, not a copy); the
class is the tracker's judgement of what a person should do about a code on a ZNS send.
Zalo's own codes live in tracker/esms/zalo_table.py; tracker/esms/codes.py reads both.
"""

from __future__ import annotations

from typing import NamedTuple

# The classes (what to do about a code). "ok" is success; "unknown" is for codes in no table.
OK = "ok"
FINAL = "final"
RETRY_LATER = "retry_later"
ACCOUNT = "account"
OA = "oa"
TEMPLATE = "template"
UNREACHABLE = "unreachable"
UNKNOWN = "unknown"
CLASSES: tuple[str, ...] = (OK, FINAL, RETRY_LATER, ACCOUNT, OA, TEMPLATE, UNREACHABLE, UNKNOWN)

# When to send again, for retry_later codes (see codes.retry_after for the instant).
SOON = "in a few minutes"
NEXT_SECOND = "after a second (eSMS's requests-per-second limit)"
AFTER_6AM = "after 06:00 Vietnam time (no sends 22:00-06:00)"
NEXT_DAY = "the next day (daily quotas restart at 00:00 Vietnam time)"
WHEN_REACHABLE = "once eSMS can be reached again"


class Entry(NamedTuple):
    """One code: its meaning in Vietnamese and English, its class, and for retry_later, when."""

    vi: str
    en: str
    cls: str
    when: str | None = None


# Every CodeResult of bang-ma-loi.md. Codes of other products (SMS brandname, voice, ads)
# are kept so an answer is never "unknown"; on a ZNS send they mean a request we did not
# make, so they are final unless they speak of the account.
ESMS: dict[str, Entry] = {
    "99": Entry("Số điện thoại bị chặn trên hệ thống eSMS", "Phone number is blocked on eSMS's system", UNREACHABLE),
    "100": Entry(
        "Yêu cầu đã được eSMS tiếp nhận (chưa phải là đã gửi tới người nhận)",
        "Request accepted by eSMS (not yet delivered to the recipient)",
        OK,
    ),
    "101": Entry("Sai ApiKey hoặc SecretKey", "Wrong ApiKey or SecretKey", ACCOUNT),
    "102": Entry("Tài khoản chưa có bảng giá", "No price list for the account", ACCOUNT),
    "103": Entry("Số dư tài khoản không đủ để gửi tin", "Balance too low to send", ACCOUNT),
    "104": Entry("Brandname hoặc mã cuộc gọi không tồn tại", "Brandname or call code does not exist", ACCOUNT),
    "105": Entry(
        "Không tìm thấy SMSID (tin vừa gửi chưa tra cứu được ngay)",
        "SMSID not found (a just-sent message is not queryable at once)",
        RETRY_LATER,
        SOON,
    ),
    "106": Entry("File ghi âm không tồn tại", "Voice recording file does not exist", FINAL),
    "107": Entry(
        "Mỗi yêu cầu phải có ít nhất 30 số điện thoại khác nhau",
        "Each request needs at least 30 distinct phone numbers",
        FINAL,
    ),
    "108": Entry("Số điện thoại không đúng định dạng", "Phone number format is invalid", FINAL),
    "110": Entry("Dữ liệu yêu cầu không đúng", "Request data is invalid", TEMPLATE),
    "115": Entry("Dữ liệu hashphone không đúng", "Hashed phone data is invalid", FINAL),
    "118": Entry("Loại tin nhắn không được hỗ trợ", "Message type not supported", FINAL),
    "120": Entry("Danh sách số điện thoại vượt quá giới hạn", "Too many phone numbers in one request", FINAL),
    "124": Entry("Trùng RequestId (trong 24 giờ)", "Duplicate RequestId (within 24 hours)", FINAL),
    "140": Entry("IP gửi tin chưa được whitelist", "Caller's IP address is not whitelisted", ACCOUNT),
    "143": Entry("Tài khoản chưa kích hoạt hoặc bị khóa", "Account inactive or locked", ACCOUNT),
    "146": Entry("Sai mẫu tin chăm sóc khách hàng", "Wrong customer-care template", TEMPLATE),
    "160": Entry(
        "Vượt giới hạn số yêu cầu mỗi giây (TPS)",
        "Too many requests per second (status queries)",
        RETRY_LATER,
        NEXT_SECOND,
    ),
    "163": Entry("Chỉ được gửi 1 số điện thoại mỗi yêu cầu", "Only one phone number per request", FINAL),
    "171": Entry(
        "Mã đã dùng, hết hạn hoặc không áp dụng cho số điện thoại này",
        "Code already used, expired or not valid for this phone number",
        FINAL,
    ),
    "177": Entry("Nhà mạng chưa được đăng ký", "Carrier not registered for this brandname", FINAL),
    "199": Entry(
        "Yêu cầu này đã tồn tại và đang được xử lý",
        "The same request already exists and is being processed",
        RETRY_LATER,
        SOON,
    ),
    "201": Entry("Nội dung chứa từ khóa bị chặn", "Content contains a blocked keyword", TEMPLATE),
    "204": Entry("OAID không tồn tại trên hệ thống", "OAID does not exist", OA),
    "210": Entry("Payload không đúng quy định", "Payload does not follow the rules", TEMPLATE),
    "300": Entry("Thiếu loại tin nhắn", "Message type missing", FINAL),
    "301": Entry("Mã loại dịch vụ chưa được hỗ trợ", "Service type code not supported", FINAL),
    "687": Entry("Danh sách yêu cầu vượt quá 500 số điện thoại", "Request list exceeds 500 phone numbers", FINAL),
    "789": Entry("Mẫu tin chưa được cấu hình cho OAID đang dùng", "Template not configured for this OAID", TEMPLATE),
    "790": Entry("Sai mẫu tin ZNS", "Wrong ZNS template", TEMPLATE),
    "791": Entry("Thiếu OAID hoặc TempID", "OAID or TempID missing", TEMPLATE),
    "799": Entry(
        "OAID không hoạt động, sai, hoặc chưa được thêm vào tài khoản",
        "OAID inactive, wrong, or not added to the account",
        OA,
    ),
    "801": Entry(
        "Chế độ gửi vượt hạn mức không cho phép gửi tin hẹn giờ",
        "Over-quota mode does not allow scheduled sends",
        FINAL,
    ),
    "802": Entry("OA chưa được phép gửi tin ở chế độ vượt hạn mức", "OA not allowed to send in over-quota mode", OA),
    "851": Entry("Thiếu MessageId hoặc SMSID", "MessageId or SMSID missing", FINAL),
    "854": Entry("Không tìm thấy dữ liệu", "No data found", RETRY_LATER, SOON),
}
