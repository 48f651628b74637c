"""Zalo ZNS error codes, in Vietnamese and English, each with a class (pure data).

These arrive after eSMS accepted a send: in a callback's ``error_info`` or a status query's
``ErrorInfo``. eSMS points to Zalo's table for them
(esms-api/ham-truy-xuat-va-dang-ky/ham-lay-thong-tin-trang-thai-zns-1.md links
https://developers.zalo.me/docs/zbs-template-message/bang-ma-loi/; Zalo also publishes it as
https://zalo.cloud/zns/guidelines/handle-error-code). The wording is ours, not a copy.
``1001`` is eSMS's own ErrorInfo value (same page): the user was not online in time.

Checked against Zalo's "Cách xử lý mã lỗi", https://zalo.cloud/zns/guidelines/handle-error-code,
in the stored copy of 2026-11-30. That copy could be read only from its start to the row of
-112, whose text is cut off: codes 0 and -100 to -111 (and that -112 is listed) agree with it,
and tests/esms/test_codes.py transcribes them as ZALO_CLOUD_PAGE. The entries from -1121 on were
not checked against Zalo's page and no code was added from other sources (-152 included);
check them against the live page before relying on them.

Classes follow tracker/esms/code_table.py. Most of these codes concern one message, so an
"account" or "oa" class here is advice for a person; only send-time CodeResults pause sending.
"""

from __future__ import annotations

from tracker.esms.code_table import (
    ACCOUNT,
    AFTER_6AM,
    FINAL,
    NEXT_DAY,
    OA,
    OK,
    RETRY_LATER,
    SOON,
    TEMPLATE,
    UNREACHABLE,
    Entry,
)

ZALO: dict[str, Entry] = {
    "0": Entry("Gửi thành công", "Delivered (Zalo success)", OK),
    "-100": Entry("Lỗi không xác định, thử lại sau", "Zalo unknown error; try again later", RETRY_LATER, SOON),
    "-101": Entry("Ứng dụng gửi ZNS không hợp lệ", "Zalo application is invalid", ACCOUNT),
    "-102": Entry("Ứng dụng gửi ZNS không tồn tại", "Zalo application does not exist", ACCOUNT),
    "-103": Entry("Ứng dụng chưa được kích hoạt", "Zalo application is not activated", ACCOUNT),
    "-104": Entry("Secret key của ứng dụng không hợp lệ", "Zalo application secret key is invalid", ACCOUNT),
    "-105": Entry("Ứng dụng chưa được liên kết với OA nào", "Zalo application is not linked to any OA", OA),
    "-106": Entry("Phương thức không được hỗ trợ", "Zalo method not supported", FINAL),
    "-107": Entry("ID thông báo không hợp lệ", "Zalo message id is invalid", FINAL),
    "-108": Entry("Số điện thoại không hợp lệ", "Phone number is invalid", FINAL),
    "-109": Entry("ID mẫu ZNS không hợp lệ", "ZNS template id is invalid", TEMPLATE),
    "-110": Entry(
        "Phiên bản Zalo của người nhận không được hỗ trợ (cần cập nhật)",
        "Recipient's Zalo version is not supported (needs an update)",
        UNREACHABLE,
    ),
    "-111": Entry("Mẫu ZNS không có dữ liệu", "ZNS template has no data", TEMPLATE),
    "-112": Entry("Dữ liệu mẫu ZNS không hợp lệ", "ZNS template data is invalid", TEMPLATE),
    "-1121": Entry("Tham số vượt quá độ dài cho phép", "A parameter is longer than its limit", TEMPLATE),
    "-1122": Entry("Dữ liệu mẫu ZNS thiếu tham số", "A parameter of the template is missing", TEMPLATE),
    "-1123": Entry("Không thể tạo mã QR", "The QR code could not be made", TEMPLATE),
    "-1124": Entry("Tham số không đúng định dạng", "A parameter has the wrong format", TEMPLATE),
    "-113": Entry("Nút (button) không hợp lệ", "Template button is invalid", TEMPLATE),
    "-114": Entry(
        "Người dùng không hoạt động, đã từ chối nhận tin, dùng Zalo phiên bản cũ hoặc gặp lỗi nội bộ khác",
        "User is inactive, rejected the message, uses an outdated Zalo version, or another Zalo internal error",
        UNREACHABLE,
    ),
    "-115": Entry("Tài khoản ZNS không đủ số dư", "Out of ZNS quota (insufficient ZNS balance)", ACCOUNT),
    "-116": Entry("Nội dung không hợp lệ", "Message text is invalid", TEMPLATE),
    "-117": Entry(
        "OA hoặc ứng dụng chưa được cấp quyền dùng mẫu ZNS này",
        "OA or app has no permission to use this template",
        TEMPLATE,
    ),
    "-118": Entry(
        "Tài khoản Zalo không tồn tại hoặc đã bị vô hiệu hóa",
        "Zalo account does not exist or is deactivated",
        UNREACHABLE,
    ),
    "-119": Entry("Tài khoản không thể nhận ZNS", "Zalo account cannot receive ZNS messages", UNREACHABLE),
    "-120": Entry("OA chưa được cấp quyền dùng tính năng này", "OA has no permission for this feature", OA),
    "-121": Entry("Mẫu ZNS không có nội dung", "ZNS template has no content", TEMPLATE),
    "-122": Entry("Body yêu cầu không đúng định dạng JSON", "Request body is not valid JSON", FINAL),
    "-123": Entry("Giải mã nội dung RSA thất bại", "RSA decryption of the content failed", FINAL),
    "-124": Entry("Mã truy cập (access token) không hợp lệ", "Zalo access token is invalid", OA),
    "-125": Entry("ID Official Account không hợp lệ", "Official Account id is invalid", OA),
    "-126": Entry("Ví (chế độ phát triển) không đủ số dư", "Development-mode wallet balance too low", ACCOUNT),
    "-127": Entry(
        "Mẫu thử chỉ được gửi cho quản trị viên OA", "A test template can only go to the OA's admins", TEMPLATE
    ),
    "-128": Entry("Mã encoding key không tồn tại", "Encoding key does not exist", ACCOUNT),
    "-129": Entry(
        "Không thể tạo RSA key, thử lại sau", "RSA key could not be made; try again later", RETRY_LATER, SOON
    ),
    "-130": Entry("Nội dung mẫu ZNS vượt quá giới hạn ký tự", "Template content exceeds the character limit", TEMPLATE),
    "-131": Entry("Mẫu ZNS chưa được phê duyệt", "ZNS template is not approved", TEMPLATE),
    "-132": Entry("Tham số không hợp lệ", "A parameter is invalid", TEMPLATE),
    "-133": Entry(
        "Mẫu ZNS này không được gửi vào ban đêm (22h-6h)",
        "This ZNS template cannot be sent at night (22:00-06:00)",
        RETRY_LATER,
        AFTER_6AM,
    ),
    "-134": Entry(
        "Người dùng chưa phản hồi gợi ý nhận ZNS từ OA",
        "User has not answered the OA's request to receive ZNS",
        UNREACHABLE,
    ),
    "-135": Entry(
        "OA chưa có quyền gửi ZNS (chưa xác thực hoặc gói miễn phí)",
        "OA may not send ZNS (not verified, or on the free plan)",
        OA,
    ),
    "-136": Entry("Cần kết nối với ZCA để dùng gói trả phí", "A ZCA account must be linked for paid sending", OA),
    "-137": Entry(
        "Thanh toán ZCA thất bại (ví không đủ số dư...)", "Zalo charge failed (ZCA wallet too low ...)", ACCOUNT
    ),
    "-138": Entry(
        "Ứng dụng gửi ZNS chưa có quyền dùng tính năng này", "The app has no permission for this feature", ACCOUNT
    ),
    "-139": Entry(
        "Người nhận từ chối nhận loại tin ZNS này", "User refused to receive this type of ZNS message", UNREACHABLE
    ),
    "-140": Entry(
        "OA chưa được phép gửi ZNS hậu mãi cho người dùng này",
        "OA may not send follow-up ZNS to this user",
        UNREACHABLE,
    ),
    "-141": Entry("Người nhận đã chặn OA", "User blocked the OA", UNREACHABLE),
    "-142": Entry(
        "RSA key không tồn tại, cần gọi API tạo RSA key", "RSA key does not exist; one must be made", ACCOUNT
    ),
    "-143": Entry("RSA key đã tồn tại", "RSA key already exists", FINAL),
    "-144": Entry("OA đã vượt giới hạn gửi ZNS trong ngày", "OA exceeded its daily ZNS quota", RETRY_LATER, NEXT_DAY),
    "-145": Entry("OA không được phép gửi loại nội dung ZNS này", "OA may not send this kind of ZNS content", TEMPLATE),
    "-146": Entry(
        "Mẫu ZNS đã bị vô hiệu hóa do chất lượng gửi thấp", "ZNS template disabled (low sending quality)", TEMPLATE
    ),
    "-147": Entry(
        "Mẫu ZNS đã vượt giới hạn gửi trong ngày", "ZNS template exceeded its daily quota", RETRY_LATER, NEXT_DAY
    ),
    "-148": Entry("Không tìm thấy token hành trình ZNS", "Journey token not found", TEMPLATE),
    "-149": Entry("Token hành trình ZNS không hợp lệ", "Journey token is invalid", TEMPLATE),
    "-1491": Entry(
        "Loại token hành trình không phù hợp với mẫu ZNS", "Journey token type does not fit the template", TEMPLATE
    ),
    "-150": Entry("Token hành trình ZNS đã hết hạn", "Journey token expired", TEMPLATE),
    "-151": Entry("Mẫu không phải là mẫu ZNS hành trình", "Template is not a journey template", TEMPLATE),
    "-153": Entry("Dữ liệu truyền vào sai quy định", "Data sent does not follow the rules", TEMPLATE),
    "1001": Entry(
        "Người dùng không online để nhận tin trong thời gian quy định của mẫu",
        "User was not online on Zalo within the allowed time",
        UNREACHABLE,
    ),
}
