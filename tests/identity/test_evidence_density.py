"""OneID's quality does not hinge on how dense the world's evidence is.

The default sample OEM models dealers that follow the delivery and service SOPs (most owners bind
their WeChat at delivery, WeCom remarks carry the owner's mobile): there plain recall is high because
the records tie nearly every identifier of a person together. On a world of dealers that do not
(``SOP_LOOSE``: fewer bindings, fewer remark mobiles, more unionid gaps) many true pairs are tied by
no record at all; no resolver can find those, so the plain recall drops — but of the pairs the
records do tie together, OneID must still find at least 98 %, and without losing precision.

The input is built straight from the generator's frames (``sources.sample_oem.identity_input``: the
landing/wechat identity columns with the same HMAC keying, no files, no HTTP) so both worlds run in
seconds; test_end_to_end.py covers the full chain on the default world.
"""

import duckdb
import pytest

from assets.identity.quality import quality_report
from assets.identity.resolve import OneidParams, resolve
from sources.identifiers import keyed_hash
from sources.sample_oem.identity_input import build
from sources.sample_oem.spec import SOP_FOLLOWED, SOP_LOOSE

KEY = b"evidence-density-key"
VEHICLES = 6_000


def resolved_quality(tmp_path, sop):
    rows = build(
        tmp_path / "warehouse.duckdb", tmp_path, VEHICLES, KEY, end="2026-10", sop=sop, log=lambda *_: None
    )
    assert rows["landing.vehicle_sales"] > VEHICLES and rows["wechat.oa_followers"] > 0
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        placeholders = tuple(keyed_hash(m, KEY) for m in ("13800138000", "13888888888"))
        resolve(con, OneidParams(placeholder_mobile_hmacs=placeholders))
        return quality_report(con, tmp_path / "truth", KEY)
    finally:
        con.close()


@pytest.fixture(scope="module")
def loose(tmp_path_factory):
    return resolved_quality(tmp_path_factory.mktemp("sop_loose"), SOP_LOOSE)


@pytest.fixture(scope="module")
def followed(tmp_path_factory):
    return resolved_quality(tmp_path_factory.mktemp("sop_followed"), SOP_FOLLOWED)


def test_sparse_evidence_costs_plain_recall_not_resolver_quality(loose):
    print(
        f"SOP_LOOSE: precision {loose.precision:.4f} recall {loose.recall:.4f} linkable "
        f"{loose.recall_linkable:.5f}"
    )
    assert loose.precision >= 0.995
    assert loose.recall_linkable >= 0.98
    # the world really is sparse: a good share of true pairs are tied by no record
    assert loose.recall < 0.95
    assert loose.linkable_pairs < 0.95 * loose.true_pairs


def test_sop_following_dealers_give_the_evidence_for_plain_recall(followed, loose):
    print(f"SOP_FOLLOWED: precision {followed.precision:.4f} recall {followed.recall:.4f}")
    assert followed.precision >= 0.995
    assert followed.recall >= 0.98
    assert followed.recall_linkable >= 0.98
    assert followed.recall > loose.recall
