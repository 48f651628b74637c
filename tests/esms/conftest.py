"""Fixtures of the eSMS tests: a scripted fake eSMS server and a client pointed at it."""

from __future__ import annotations

import threading

import pytest

from tests.esms.support import API_KEY, SECRET_KEY, SMSID, FakeEsms, Reply, Server, make_handler
from tracker.esms.client import EsmsClient


@pytest.fixture
def fake():
    state = FakeEsms(replies=[Reply({"CodeResult": "100", "SMSID": SMSID})])
    server = Server(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(fake):
    c = EsmsClient(f"{fake.url}/MainService.svc/json/", fake.url, API_KEY, SECRET_KEY, timeout=2.0)
    yield c
    c.close()
