"""The simulator's ZNS templates: what GetTemplate and GetZnsTemplateInfo list, and eSMS's check of Params.

Shapes follow esms-api/ham-truy-xuat-va-dang-ky/ham-lay-danh-sach-template-zalo.md
(GetTemplate: ``ZNSTemplates[]`` of ``TempContent, TempId, TempName, ZNSTempDetail[]``
with ``Limit, Param, ParamLevel, RequireType``) and
ham-lay-thong-tin-chi-tiet-template-zalo.md (GetZnsTemplateInfo: ``Data`` with
``ListParams``, ``Status``, ``TemplateTag``, ``Timeout`` in milliseconds ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.simulator.settings import SimSettings

# RequireType values of ham-lay-danh-sach-template-zalo.md.
TYPE_TEXT, TYPE_NUMBER, TYPE_DATE, TYPE_CTA_URL = "type_text", "type_number", "type_date", "type_cta_url"
_NUMBER = re.compile(r"[0-9]{1,12}")  # "digits 0 to 9 only, at most 12"
# GetZnsTemplateInfo's ListParams Type per RequireType (its sample shows "STRING").
_INFO_TYPES = {TYPE_TEXT: "STRING", TYPE_NUMBER: "NUMBER", TYPE_DATE: "DATE", TYPE_CTA_URL: "STRING"}


@dataclass(frozen=True)
class Param:
    name: str
    limit: int
    require_type: str = TYPE_TEXT


@dataclass(frozen=True)
class Template:
    temp_id: str
    name: str
    content: str
    params: tuple[Param, ...]
    # Registered at Zalo as a journey template (tin-zalo-hanh-trinh.md requires it for IsJourney).
    journey: bool = True
    tag: str = "TRANSACTION"


BUILT_IN: dict[str, Template] = {
    t.temp_id: t
    for t in (
        Template(
            "2056446",
            "Xác nhận đơn hàng",
            "Chào {{customer_name}}, đơn {{order_code}} của bạn: {{status}}.",
            (Param("customer_name", 30), Param("order_code", 30), Param("status", 50)),
        ),
        Template(
            "523194",
            "Cập nhật giao hàng",
            "Chào {{customer_name}}, đơn {{order_code}} {{status}}.",
            (Param("customer_name", 30), Param("order_code", 30), Param("status", 50)),
        ),
        Template(
            "300001",
            "Nhắc thanh toán",
            "Đơn {{order_code}}: {{amount}} đồng, hạn {{due_date}}.",
            (Param("order_code", 30), Param("amount", 12, TYPE_NUMBER), Param("due_date", 10, TYPE_DATE)),
            journey=False,
            tag="CUSTOMER_CARE",
        ),
    )
}


def generic(temp_id: str) -> Template:
    """A configured template the catalogue does not describe: its Params are not checked."""
    return Template(temp_id, f"Template {temp_id}", "{{p1}} {{p2}}", (Param("p1", 100), Param("p2", 100)))


def configured(settings: SimSettings, temp_id: str) -> bool:
    """789 otherwise (bang-ma-loi.md: template not configured for the OAID)."""
    if settings.templates is None:
        return temp_id.isdigit()
    return temp_id in settings.templates


def find(settings: SimSettings, temp_id: str) -> Template | None:
    if not configured(settings, temp_id):
        return None
    return BUILT_IN.get(temp_id) or generic(temp_id)


def listed(settings: SimSettings) -> list[Template]:
    if settings.templates is None:
        return list(BUILT_IN.values())
    return [BUILT_IN.get(t) or generic(t) for t in sorted(settings.templates)]


def _valid(param: Param, value: str) -> bool:
    if len(value) > param.limit:
        return False
    if param.require_type == TYPE_NUMBER:
        return bool(_NUMBER.fullmatch(value))
    if param.require_type == TYPE_DATE:
        try:
            datetime.strptime(value, "%d/%m/%Y")
        except ValueError:
            return False
    return True


def params_fit(template: Template, params: Any) -> bool:
    """False means 790 "wrong ZNS template" (bang-ma-loi.md; GetTemplate: over ``Limit`` is a
    wrong template). Params must be an array of strings; for a catalogue template, no more of
    them than it has variables, each within its Limit and RequireType. Fewer are not refused:
    eSMS documents nothing about them, and the tracker's tests send any number."""
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        return False
    if template.temp_id not in BUILT_IN:
        return True
    if len(params) > len(template.params):
        return False
    return all(_valid(spec, value) for spec, value in zip(template.params, params, strict=False))


def render(template: Template, params: list[str]) -> str:
    """The message text, as GetSmsSentData_V2's ``Content`` shows it."""
    text = template.content
    for spec, value in zip(template.params, params, strict=False):
        text = text.replace("{{" + spec.name + "}}", value)
    return text


def get_template_entry(template: Template) -> dict[str, Any]:
    """One ``ZNSTemplates`` entry of GetTemplate (ham-lay-danh-sach-template-zalo.md)."""
    return {
        "TempContent": template.content,
        "TempId": int(template.temp_id) if template.temp_id.isdigit() else template.temp_id,
        "TempName": template.name,
        "ZNSTempDetail": [
            {"Limit": p.limit, "Param": p.name, "ParamLevel": i, "RequireType": p.require_type}
            for i, p in enumerate(template.params, start=1)
        ],
    }


def template_info(template: Template, oa_id: str, timeout_seconds: float) -> dict[str, Any]:
    """GetZnsTemplateInfo's ``Data`` (ham-lay-thong-tin-chi-tiet-template-zalo.md)."""
    return {
        "ListButtons": [{"Content": f"https://oa.zalo.me/{oa_id}", "Title": "Quan tâm OA", "Type": 2}],
        "ListParams": [
            {
                "AcceptNull": False,
                "MaxLength": p.limit,
                "MinLength": 0,
                "Name": p.name,
                "Require": True,
                "Type": _INFO_TYPES[p.require_type],
            }
            for p in template.params
        ],
        "PreviewUrl": f"https://account.zalo.cloud/znspreview/sim-{template.temp_id}",
        "Reason": "Template đã được duyệt",
        "Status": "ENABLE",
        "TemplateId": int(template.temp_id) if template.temp_id.isdigit() else template.temp_id,
        "TemplateName": template.name,
        "TemplateQuality": "null",
        "TemplateTag": template.tag,
        "Timeout": int(timeout_seconds * 1000),
    }
