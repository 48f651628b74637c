"""eSMS's account and template APIs (tracker/simulator/account_api.py), over real HTTP: GetBalance_json,
ZNS/GetQuota, GetTemplate, GetZnsTemplateInfo. The account behind them is tested in test_account.py.

Documents (devesms/gitbook_esms_for_develop_v2, esms-api/ham-truy-xuat-va-dang-ky/):
ham-lay-so-du-tai-khoan.md (GetBalance_json), lay-qouta-tin-zalo-theo-oaid.md (ZNS/GetQuota),
ham-lay-danh-sach-template-zalo.md (GetTemplate), ham-lay-thong-tin-chi-tiet-template-zalo.md
(GetZnsTemplateInfo); CodeResults 101, 103, 799 ... of esms-api/bang-ma-loi.md.
"""

from __future__ import annotations

import requests

from tests.simulator.support import OAID, configure, post, quiet_settings, send, truth
from tracker.simulator import start_in_thread
from tracker.simulator.server import RunningSimulator


def test_balance_pays_for_delivered_messages_and_103_when_too_low() -> None:
    """GetBalance_json answers Balance, CodeResponse, UserID (101: Balance 0); a delivered journey
    costs its TotalPrice (220), a failed one nothing; a send the balance cannot pay gets 103
    ("không đủ số dư", bang-ma-loi.md)."""
    running = start_in_thread(quiet_settings(balance=500.0, failed_rate=0.0))
    try:
        configure(running, forced_outcomes={"0901000001": "failed:-114"})
        assert post(running, "GetBalance_json") == {"Balance": 500, "CodeResponse": "100", "UserID": 9999}
        assert send(running, RequestId="a")["CodeResult"] == "100"
        assert send(running, RequestId="b", Phone="0901000001")["CodeResult"] == "100"
        assert post(running, "GetBalance_json")["Balance"] == 280
        assert send(running, RequestId="c")["CodeResult"] == "100"
        answer = send(running, RequestId="d")
        assert answer["CodeResult"] == "103" and answer["ErrorMessage"] and "SMSID" not in answer
        assert post(running, "GetBalance_json")["Balance"] == 60
        assert post(running, "GetBalance_json", SecretKey="") == {
            "Balance": 0, "CodeResponse": "101", "ErrorMessage": "Authorize Failed"}  # fmt: skip
    finally:
        running.stop()


def test_quota_and_minus_144_past_it() -> None:
    """ZNS/GetQuota: DailyQuota and RemainingQuota of the OA (and the promotion quotas, 0 for
    journeys); past the quota Zalo refuses with -144: a SendStatus 5, SendFailed=1 outcome."""
    running = start_in_thread(quiet_settings(daily_quota=2, failed_rate=0.0))
    try:
        for i in range(3):
            assert send(running, RequestId=f"r{i}")["CodeResult"] == "100"
        quota = post(running, "ZNS/GetQuota/", OAID=OAID)
        assert quota["CodeResult"] == "100" and quota["ErrorMessage"] == "success"
        assert (quota["DailyQuota"], quota["RemainingQuota"], quota["RemainingQuotaPromotion"]) == (2, 0, 0)
        assert [(m["outcome"], m["error_code"]) for m in truth(running)] == [
            ("delivered", None), ("delivered", None), ("failed", "-144")]  # fmt: skip
        assert post(running, "ZNS/GetQuota/", OAID="other")["RemainingQuota"] == 2
        assert post(running, "ZNS/GetQuota/")["CodeResult"] == "791"
        assert post(running, "ZNS/GetQuota/", OAID=OAID, ApiKey="")["CodeResult"] == "101"
        configure(running, oa_ids=[OAID])
        assert post(running, "ZNS/GetQuota/", OAID="other")["CodeResult"] == "799"
    finally:
        running.stop()


def test_get_template_in_esms_shape(sim: RunningSimulator) -> None:
    """GetTemplate: CodeResult, ErrorMessage, ZNSTemplates[] of TempContent, TempId, TempName,
    ZNSTempDetail[] of Limit, Param, ParamLevel, RequireType (type_text, type_number, type_date,
    type_cta_url); SmsType 24 or 25, 118 otherwise."""
    answer = post(sim, "GetTemplate/", OAId=OAID, SmsType="24")
    assert list(answer) == ["CodeResult", "ErrorMessage", "ZNSTemplates"] and answer["CodeResult"] == "100"
    templates = {t["TempId"]: t for t in answer["ZNSTemplates"]}
    assert {2056446, 523194} <= set(templates)
    entry = templates[300001]
    assert list(entry) == ["TempContent", "TempId", "TempName", "ZNSTempDetail"]
    assert [(d["Param"], d["ParamLevel"], d["RequireType"]) for d in entry["ZNSTempDetail"]] == [
        ("order_code", 1, "type_text"), ("amount", 2, "type_number"), ("due_date", 3, "type_date")]  # fmt: skip
    assert all(d["Limit"] > 0 for t in templates.values() for d in t["ZNSTempDetail"])
    assert post(sim, "GetTemplate/", OAId=OAID, SmsType="27")["CodeResult"] == "118"
    assert post(sim, "GetTemplate/", OAId=OAID, SmsType="24", SecretKey="") == {
        "CodeResult": "101", "ErrorMessage": "Authorize Failed"}  # fmt: skip
    configure(sim, templates=["111"])
    [only] = post(sim, "GetTemplate/", OAId=OAID, SmsType="25")["ZNSTemplates"]
    assert only["TempId"] == 111


def test_get_zns_template_info(sim: RunningSimulator) -> None:
    """GetZnsTemplateInfo: Data (ListParams, Status ENABLE, TemplateTag, Timeout in ms), Error 0,
    Message "Success"; 789 (template not configured for the OA) for an unknown one."""
    params = {"TemplateId": "523194", "ApiKey": "key", "SecretKey": "secret", "OAId": OAID}
    answer = requests.get(f"{sim.base_url}/GetZnsTemplateInfo", params=params, timeout=5).json()
    assert (answer["Error"], answer["Message"]) == (0, "Success")
    data = answer["Data"]
    assert (data["TemplateId"], data["Status"], data["Timeout"]) == (523194, "ENABLE", 7_200_000)
    assert [p["Name"] for p in data["ListParams"]] == ["customer_name", "order_code", "status"]
    configure(sim, template_timeout=60)
    again = requests.get(f"{sim.base_url}/GetZnsTemplateInfo", params=params, timeout=5).json()
    assert again["Data"]["Timeout"] == 60_000
    unknown = requests.get(f"{sim.base_url}/GetZnsTemplateInfo", params={**params, "TemplateId": "x"}, timeout=5)
    assert unknown.json()["Error"] == 789
