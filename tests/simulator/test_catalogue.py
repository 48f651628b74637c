"""The simulator's ZNS templates (tracker/simulator/catalogue.py): which are configured, eSMS's check of
Params, and the GetTemplate / GetZnsTemplateInfo entries.

Documents (repository devesms/gitbook_esms_for_develop_v2, esms-api/ham-truy-xuat-va-dang-ky/):
ham-lay-danh-sach-template-zalo.md (GetTemplate: Limit, Param, ParamLevel, RequireType),
ham-lay-thong-tin-chi-tiet-template-zalo.md (GetZnsTemplateInfo: ListParams, Timeout in ms);
esms-api/bang-ma-loi.md (789 not configured, 790 wrong ZNS template).
"""

from __future__ import annotations

from typing import Any

import pytest

from tracker.simulator import catalogue
from tracker.simulator.catalogue import BUILT_IN, TYPE_DATE, TYPE_NUMBER, TYPE_TEXT, Param, Template
from tracker.simulator.settings import SimSettings

ORDER = BUILT_IN["2056446"]  # three type_text params: 30, 30, 50 characters
PAYMENT = BUILT_IN["300001"]  # order_code (text 30), amount (number 12), due_date (date 10)


def test_any_numeric_template_is_configured_unless_the_account_lists_its_own() -> None:
    """789 (bang-ma-loi.md) for a template not configured for the OA."""
    anything, listed = SimSettings(), SimSettings(templates={"111", "abc"})
    assert catalogue.configured(anything, "2056446") and catalogue.configured(anything, "42")
    assert not catalogue.configured(anything, "abc") and not catalogue.configured(anything, "")
    assert catalogue.configured(listed, "abc") and not catalogue.configured(listed, "2056446")
    assert catalogue.find(anything, "2056446") is ORDER
    unknown = catalogue.find(anything, "42")
    assert unknown is not None and unknown == catalogue.generic("42") and unknown.temp_id == "42"
    assert catalogue.find(anything, "abc") is None and catalogue.find(listed, "2056446") is None


def test_listed_templates() -> None:
    assert catalogue.listed(SimSettings()) == list(BUILT_IN.values())
    assert [t.temp_id for t in catalogue.listed(SimSettings(templates={"300001", "111"}))] == ["111", "300001"]
    assert catalogue.listed(SimSettings(templates={"300001"})) == [PAYMENT]


@pytest.mark.parametrize(
    ("template", "params", "fits"),
    [
        (ORDER, ["Lan", "ORD-1", "đã giao"], True),
        (ORDER, [], True),
        (ORDER, ["L" * 30], True),
        (ORDER, ["L" * 31], False),
        (ORDER, ["a", "b", "c", "d"], False),
        (ORDER, ["a", 1], False),
        (ORDER, "Lan", False),
        (PAYMENT, ["DH1", "150000", "30/04/2024"], True),
        (PAYMENT, ["DH1", "12a"], False),
        (PAYMENT, ["DH1", "1" * 12], True),
        (PAYMENT, ["DH1", "1" * 13], False),
        (PAYMENT, ["DH1", "1", "2024-04-30"], False),
        (PAYMENT, ["DH1", "1", "31/02/2024"], False),
        (catalogue.generic("42"), ["x" * 500, "y", "z"], True),
        (catalogue.generic("42"), [1], False),
    ],
)
def test_params_fit(template: Template, params: Any, fits: bool) -> None:
    """790 (bang-ma-loi.md) when they do not: an array of strings, no more than the template's
    variables, each within its Limit and RequireType (type_number: digits only, at most 12;
    type_date: dd/MM/yyyy), as GetTemplate describes them; an uncatalogued template's are not checked."""
    assert catalogue.params_fit(template, params) is fits


def test_render_fills_the_variables_in_order() -> None:
    """GetSmsSentData_V2's Content: the template's text with its Params."""
    assert catalogue.render(ORDER, ["Lan", "ORD-1", "đã giao"]) == "Chào Lan, đơn ORD-1 của bạn: đã giao."
    assert catalogue.render(ORDER, ["Lan"]) == "Chào Lan, đơn {{order_code}} của bạn: {{status}}."


def test_a_get_template_entry() -> None:
    """ham-lay-danh-sach-template-zalo.md: TempContent, TempId (a number), TempName, ZNSTempDetail[]
    of Limit, Param, ParamLevel (from 1), RequireType."""
    entry = catalogue.get_template_entry(PAYMENT)
    assert list(entry) == ["TempContent", "TempId", "TempName", "ZNSTempDetail"]
    assert (entry["TempId"], entry["TempName"]) == (300001, "Nhắc thanh toán")
    assert entry["ZNSTempDetail"] == [
        {"Limit": 30, "Param": "order_code", "ParamLevel": 1, "RequireType": TYPE_TEXT},
        {"Limit": 12, "Param": "amount", "ParamLevel": 2, "RequireType": TYPE_NUMBER},
        {"Limit": 10, "Param": "due_date", "ParamLevel": 3, "RequireType": TYPE_DATE},
    ]
    odd = Template("T-1", "odd", "{{a}}", (Param("a", 5),))
    assert catalogue.get_template_entry(odd)["TempId"] == "T-1"


def test_template_info() -> None:
    """ham-lay-thong-tin-chi-tiet-template-zalo.md's Data: ListParams typed like its sample ("STRING"),
    Status ENABLE, TemplateTag, Timeout in milliseconds."""
    info = catalogue.template_info(PAYMENT, "111", 1.5)
    assert (info["TemplateId"], info["Status"], info["TemplateTag"], info["Timeout"]) == (
        300001, "ENABLE", "CUSTOMER_CARE", 1500)  # fmt: skip
    assert [(p["Name"], p["Type"], p["MaxLength"]) for p in info["ListParams"]] == [
        ("order_code", "STRING", 30), ("amount", "NUMBER", 12), ("due_date", "DATE", 10)]  # fmt: skip
    assert info["ListButtons"][0]["Content"] == "https://oa.zalo.me/111"
    assert catalogue.template_info(ORDER, "111", 7200)["TemplateTag"] == "TRANSACTION"


def test_journey_templates() -> None:
    """tin-zalo-hanh-trinh.md: a journey needs a template registered as one (Zalo's -1491 otherwise)."""
    assert ORDER.journey and BUILT_IN["523194"].journey and not PAYMENT.journey
