"""Precision and recall on a synthetic population with the usual dirt (until the generator's S data)."""

import duckdb

from assets.identity.quality import pairwise_counts
from assets.identity.resolve import OneidParams, resolve
from tests.identity.synthetic import build


def test_pairwise_precision_and_recall_on_synthetic_people():
    con = duckdb.connect()
    build(con, 5_000)
    summary = resolve(con, OneidParams())
    assert (
        summary.excluded_identifiers["shared_mobile"] > 0 and summary.excluded_identifiers["staff_mobile"] > 0
    )
    con.execute(
        """
        create temp table evaluated as
        select t.identifier_type || t.identifier_key as identifier,
               coalesce(m.oneid, 'x' || t.identifier_key) as cluster, t.person_id::varchar as person
        from truth.identifiers t
        left join identity.oneid_map m using (identifier_type, identifier_key)
        left join identity.excluded_identifiers x using (identifier_type, identifier_key)
        where t.kind = 'personal' and (m.oneid is not null or x.identifier_key is not null)
        """
    )
    tp, predicted, true = pairwise_counts(con, "evaluated")
    assert tp / predicted >= 0.995
    assert tp / true >= 0.98
    # resold cars: no OneID holds two ID numbers
    assert con.execute(
        "select count(*) from identity.oneid_map where identifier_type = 'id_number' group by oneid order by "
        "1 desc limit 1"
    ).fetchall() == [(1,)]
