"""The overview's failures (tracker/dashboard/failures.py) on both databases: every failure of the range
grouped by its class from tracker/esms/codes.py with counts, shares and advice; the top codes with their
class; and the share of delivered messages that reached the phone."""

from __future__ import annotations

import pytest

from tests.dashboard.support import add, ago
from tracker.esms import codes

FAILURES = {
    # code: (status, messages)
    "-114": ("failed", 4),  # unreachable
    "1001": ("failed", 1),  # unreachable
    "-133": ("failed", 3),  # retry_later (night window)
    "-144": ("failed", 1),  # retry_later (quota)
    "789": ("rejected", 2),  # template
    "-1121": ("failed", 1),  # template
    "108": ("rejected", 1),  # final
    "zz9": ("failed", 1),  # unknown
}


@pytest.fixture
def seeded(engine):
    for code, (status, n) in FAILURES.items():
        add(engine, n, status=status, error_code=code, created_at=ago(hours=1))
    add(engine, 2, status="failed", error_code=None, created_at=ago(hours=1))  # no code: unknown
    add(engine, 1, status="failed", error_code="-114", created_at=ago(days=3))  # outside the range
    add(engine, 3, status="delivered", created_at=ago(hours=2), delivered_to_phone_at=ago(hours=1))
    add(engine, 5, status="delivered", created_at=ago(hours=2))
    add(engine, 2, status="accepted", sandbox=True, created_at=ago(hours=2))


def texts(rows) -> list[list[str]]:
    return [[c["t"] for c in row] for row in rows]


def test_failures_are_grouped_by_class_with_counts_and_advice(client, seeded):
    data = client.get("/dashboard/data/overview").get_json()
    rows = texts(data["tables"]["failure-classes"])
    assert [r[:3] for r in rows] == [
        ["unreachable", "5", "31.2%"],
        ["retry later", "4", "25.0%"],
        ["template", "3", "18.8%"],
        ["unknown", "3", "18.8%"],
        ["final", "1", "6.2%"],
    ]
    by_class = {r[0]: r for r in rows}
    assert by_class["unreachable"][3] == "-114, 1001"
    assert by_class["unknown"][3] in ("zz9, none", "none, zz9")
    assert by_class["unreachable"][4].startswith("This person cannot be reached by Zalo")
    assert by_class["template"][4].startswith("Fix the template or its parameters")
    assert "send these again later" in by_class["retry later"][4]
    assert sum(int(r[1]) for r in rows) == sum(n for _s, n in FAILURES.values()) + 2


def test_each_code_row_names_its_class(client, seeded):
    rows = client.get("/dashboard/data/overview").get_json()["tables"]["failures"]
    by_code = {r[0]["t"]: r for r in rows}
    assert by_code["-114"][2] == {"t": "unreachable", "cls": "class-tag c-unreachable"}
    assert by_code["-133"][2]["t"] == "retry later"
    assert "after 06:00 Vietnam time" in by_code["-133"][6]["t"]
    assert by_code["789"][2]["t"] == "template" and by_code["108"][2]["t"] == "final"
    assert codes.error_class("zz9") == "unknown" and by_code["zz9"][2]["t"] == "unknown"


def test_the_classes_in_vietnamese(reader, seeded):
    rows = texts(reader.get("/dashboard/data/overview").get_json()["tables"]["failure-classes"])
    assert rows[0][:3] == ["không liên lạc được", "5", "31,2%"]
    assert rows[0][4].startswith("Không thể liên lạc")


def test_share_of_delivered_messages_on_the_phone(client, seeded):
    text = client.get("/dashboard/data/overview").get_json()["text"]
    assert text["phone-rate"] == "37.5%"
    assert text["phone-note"] == "3 of 8 delivered messages reached the phone"


def test_a_long_range_loads_them_with_the_details(client, seeded):
    page = client.get("/dashboard/data/overview?range=30d").get_json()
    assert "failure-classes" not in page["tables"] and "phone-rate" not in page["text"]
    details = client.get("/dashboard/data/overview/details?range=30d").get_json()
    assert texts(details["tables"]["failure-classes"])[0][:2] == ["unreachable", "6"]
    assert details["text"]["phone-rate"] == "37.5%"


def test_nothing_failed(client, engine):
    add(engine, 2, status="delivered", created_at=ago(hours=1))
    data = client.get("/dashboard/data/overview").get_json()
    assert data["tables"]["failure-classes"] == [] and data["text"]["phone-rate"] == "0.0%"
    html = client.get("/").get_data(as_text=True)
    assert 'data-table="failure-classes"' in html and "No failed or rejected messages in this range." in html
