"""Every page, as every role: what each role is shown stays inside its scope, and no page shows a
plaintext mobile (or its ciphertext). Everything a page sends to the browser is checked, charts'
and tables' data included: the serialized elements of the run, not only the visible text."""

from __future__ import annotations

import pytest

from dashboards.navigation import pages_for
from sources.pii import PiiVault
from tests.dashboards.conftest import ACCOUNTS, sign_in
from tests.dashboards.fixture_serving import DEALERS, MOBILES, OWNERS, PII_KEY, mask


def sent_to_browser(at) -> bytes:
    """The serialized protos of every element of the last run (what Streamlit sends the browser)."""

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            yield proto.SerializeToString()
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return b"\n".join(walk(at._tree))


def every_page(key: str) -> dict[str, bytes]:
    """Sign in as ``ACCOUNTS[key]`` and open each page of its role; what each page sent."""
    at = sign_in(key)
    seen = {}
    for spec in pages_for(ACCOUNTS[key][1]):
        at.switch_page(spec.script).run()
        assert not at.exception, (key, spec.script, at.exception)
        seen[spec.script] = sent_to_browser(at)
    return seen


def traces_of(dealer: str) -> list[str]:
    name = next(d[1] for d in DEALERS if d[0] == dealer)
    owners = [o for o in OWNERS if o[2] == dealer]
    return [dealer, name, *(o[0] for o in owners), *(o[1] for o in owners), *(mask(o[3]) for o in owners)]


FORBIDDEN_EVERYWHERE = [*MOBILES.values(), *(PiiVault(PII_KEY).encrypt(m) for m in MOBILES.values())]


@pytest.mark.parametrize(
    ("key", "foreign_dealers"),
    [
        ("admin", []),
        ("analyst", []),
        ("region_manager", ["D001"]),
        ("dealer_manager", ["D001", "D003"]),
        ("dealer_manager_d001", ["D002", "D003"]),
    ],
)
def test_every_page_as_every_role_stays_in_scope(serving_db, accounts, key, foreign_dealers):
    seen = every_page(key)
    for script, sent in seen.items():
        for value in FORBIDDEN_EVERYWHERE:
            assert value.encode() not in sent, (key, script, "plaintext or encrypted mobile")
        assert b"_hmac" not in sent and b"_enc" not in sent, (key, script)
        for dealer in foreign_dealers:
            for trace in traces_of(dealer):
                assert trace.encode() not in sent, (key, script, dealer, trace)


def test_a_dealer_manager_cannot_look_up_another_dealers_customer(serving_db, accounts):
    at = sign_in("dealer_manager_d001")
    at.switch_page("app_pages/customers.py").run()
    for key in ("LVSHCAMB1CE000003", "OID000000000003"):  # a D002 customer
        at.text_input[0].input(key).run()
        assert at.warning[0].value == "未找到该客户。"
    at.text_input[0].input("LVSHCAMB1CE000001").run()
    assert "OID000000000001" in sent_to_browser(at).decode("utf-8", "replace")


def test_the_menu_offers_each_role_its_pages_only():
    assert [p.script for p in pages_for("dealer_manager")] == [p.script for p in pages_for("region_manager")]
    assert "app_pages/admin.py" in [p.script for p in pages_for("admin")]
    for role in ("analyst", "region_manager", "dealer_manager"):
        assert "app_pages/admin.py" not in [p.script for p in pages_for(role)]
    for role in ("region_manager", "dealer_manager"):
        scripts = [p.script for p in pages_for(role)]
        assert "app_pages/identity.py" not in scripts and "app_pages/data_quality.py" not in scripts
