"""What each source record says about who is who: identifier sightings and candidate links.

Every landing/wechat table that carries person identifiers is read here, in SQL, through two views
(``collect``):

* ``id_sightings`` (identifier_type, identifier_key, mobile_status, source, record_key, seen_at):
  one row per identifier per record, the basis of ``first_seen_at``/``last_seen_at``, history and
  identifiers that link to nothing (a complaint's mobile is still a person);
* ``id_candidates`` (left_type, left_key, right_type, right_key, source, record_key, rule, tier,
  seen_at): the links a record asserts, by the rule of ``RULES.md`` that makes them.

Tiers order the links, strongest first (see ``graph.py``):
1. platform assertions: openid—unionid (OA user info, binding), external_userid—unionid (WeCom);
2. an SMS-verified WeChat binding: openid—id_number;
3. a mobile on an owner record (DMS sale, binding): clean mobiles only;
4. weak contacts: bookings, campaign participants, WeCom remark mobiles: clean mobiles only.

Never links: the VIN (a vehicle, resold between people), a repair order's sender mobile (a contact),
a staff member's mobile. A table that does not exist yet contributes nothing and is named in the
returned log, so OneID runs on partial data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from sources.sql_text import quote_literal

IDENTIFIER_TYPES = ("unionid", "oa_openid", "wecom_external_userid", "mobile", "id_number")
# the types as a DuckDB enum: one byte a row where a sort carries them (a string there costs a heap)
IDENTIFIER_TYPE_ENUM = "enum(" + ", ".join(quote_literal(t) for t in IDENTIFIER_TYPES) + ")"

TIER_PLATFORM = 1
TIER_VERIFIED = 2
TIER_OWNER_MOBILE = 3
TIER_WEAK = 4

# rule code -> (tier, what it means); the codes appear in identity.oneid_links.rule
RULES: dict[str, tuple[int, str]] = {
    "oa_user_info": (TIER_PLATFORM, "WeChat OA user info: openid and unionid of one WeChat user"),
    "binding_wechat": (TIER_PLATFORM, "WeChat binding: openid and unionid of one WeChat user"),
    "wecom_contact_unionid": (TIER_PLATFORM, "WeCom contact: external_userid and unionid of one WeChat user"),
    "binding_verified_id": (
        TIER_VERIFIED,
        "SMS-verified WeChat binding: openid belongs to the owner's ID number",
    ),
    "sale_owner_mobile": (TIER_OWNER_MOBILE, "DMS vehicle sale: owner's ID number and mobile (clean mobile)"),
    "binding_verified_mobile": (TIER_OWNER_MOBILE, "SMS-verified WeChat binding: the mobile (clean mobile)"),
    "booking_contact": (TIER_WEAK, "booking: openid and mobile (weak, clean mobile)"),
    "campaign_participant_contact": (
        TIER_WEAK,
        "campaign participant: openid and mobile (weak, clean mobile)",
    ),
    "wecom_remark_mobile": (TIER_WEAK, "WeCom contact remark mobile (weak, clean mobile)"),
}


# guarded identifier types: no component may join two of them from different components.
# ID numbers are guarded on every tier (rule 4); mobiles only against weak links, so a booking or a
# WeCom remark typed with a spouse's or a consultant's number never adds a second mobile to a person.
# Both engines read these (``resolve._components``, ``spark_components``).
GUARDED_TYPES = ("id_number", "mobile")
GUARDS_BY_TIER = {TIER_WEAK: (0, 1)}
DEFAULT_GUARDS = (0,)
CONFLICT_REASONS = ("would_join_id_numbers", "weak_link_second_mobile")  # per guarded type


@dataclass
class SourceLog:
    read: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "landing.x: table not found" / "...: no column y"
    # the (left type, right type) of the candidate links, in ``IDENTIFIER_TYPES`` order: the graph's
    # pairs are joined one direction at a time, each side to its own type's nodes
    link_types: list[tuple[str, str]] = field(default_factory=list)

    @property
    def left_types(self) -> list[str]:
        """The types candidate links start from: a kept link's OneID is its left identifier's, so
        only these types' nodes need theirs looked up."""
        return list(dict.fromkeys(left for left, _ in self.link_types))


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str] | None:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {r[0] for r in rows} or None


def _available(con, log: SourceLog, relation: str, needed: set[str]) -> bool:
    schema, table = relation.split(".")
    columns = _columns(con, schema, table)
    if columns is None:
        log.missing.append(f"{relation}: table not found, no identities from it")
        return False
    absent = sorted(needed - columns)
    if absent:
        log.missing.append(f"{relation}: no column {', '.join(absent)}, no identities from it")
        return False
    log.read.append(relation)
    return True


# ---------------------------------------------------------------------------- SQL fragments


def node_key_sql(type_sql: str, key_sql: str, salt: int) -> str:
    """A 64-bit integer standing for one identifier (type, key) within a run.

    The graph joins and groups identifiers by this number instead of by their strings (64-character
    HMACs at L: 37M of them), which keeps DuckDB's hash tables small. Distinct identifiers can share
    a number (about 1 run in 25,000 at L scale); ``resolve`` detects that and collects again with
    another ``salt``. The number is never stored beyond the run.
    """
    if not salt:
        return f"hash({type_sql}, {key_sql})"
    # a different string, not a third argument: DuckDB combines per-argument hashes, so two keys
    # whose own hashes collide would collide under every extra argument
    return f"hash({type_sql}, {key_sql} || '#{int(salt)}')"


# the columns of the two views ``collect`` defines (and their types, for a view over no source)
SIGHTING_COLUMNS = {
    "identifier_type": "varchar", "identifier_key": "varchar", "node_key": "ubigint",
    "mobile_status": "varchar", "source": "varchar", "record_key": "varchar", "seen_at": "timestamp",
}  # fmt: skip
CANDIDATE_COLUMNS = {
    "left_type": "varchar", "left_key": "varchar", "left_node": "ubigint", "right_type": "varchar",
    "right_key": "varchar", "right_node": "ubigint", "source": "varchar", "record_key": "varchar",
    "rule": "varchar", "tier": "integer", "seen_at": "timestamp",
}  # fmt: skip
_SIGHTING = (
    "select identifier_type, identifier_key, {node_key} as node_key, mobile_status, source, record_key, "
    "seen_at from ({q}) where identifier_key is not null"
)
_CANDIDATE = (
    "select left_type, left_key, {left_node} as left_node, right_type, right_key, "
    "{right_node} as right_node, source, record_key, rule, tier, seen_at "
    "from ({q}) where left_key is not null and right_key is not null"
)


def _union_view(work: str, name: str, queries: list[str], columns: dict[str, str]) -> str:
    """``create or replace view`` ``name`` in ``work`` as the union of ``queries`` (typed, empty if none)."""
    create = work_view(work, name)
    if not queries:
        typed = ", ".join(f"null::{t} as {c}" for c, t in columns.items())
        queries = [f"select {typed} where false"]
    return f"{create} as\n" + "\nunion all\n".join(queries)


def _known(identifier_type: str) -> None:
    """Every identifier type is one of ``IDENTIFIER_TYPES``: resolve works through them one by one."""
    if identifier_type not in IDENTIFIER_TYPES:
        raise ValueError(f"identifier type {identifier_type!r} is not one of {IDENTIFIER_TYPES}")


def _valid_id(col: str) -> str:
    """The ID number's HMAC when the number is valid (checksum passed), else null."""
    return f"case when {col}_status = 'valid' then {col}_hmac end"


def _mobile(col: str) -> str:
    """A mobile's HMAC whenever it has one: placeholders keep theirs so they can be reported."""
    return f"{col}_hmac"


def work_table(work: str, name: str) -> str:
    """``create or replace ...`` of a work table: a temp table, or a table of an attached scratch database."""
    return (
        f"create or replace temp table {name}" if work == "temp" else f"create or replace table {work}.{name}"
    )


def work_view(work: str, name: str) -> str:
    """``create or replace ...`` of a work view: a temp view, or a view of an attached scratch database."""
    if work == "temp":
        return f"create or replace temp view {name}"
    return f"create or replace view {work}.{name}"


def collect(con: duckdb.DuckDBPyConnection, work: str = "temp", salt: int = 0) -> SourceLog:
    """Define the views ``id_sightings`` and ``id_candidates`` over every source present.

    ``work``: where they go: ``temp`` (temp views) or an attached scratch database. They are views,
    not tables: each is read once or twice per run (grouped into one row per identifier, joined to
    the nodes), and at L they stand for ~180M rows of strings that, written to the scratch database,
    cost more than reading the landing tables again (docs/benchmarks.md, "what each change bought").
    The source tables are named with the warehouse's catalog, since a view in the scratch database
    resolves unqualified names in its own catalog. Each identifier also gets its run-local integer
    ``node_key`` (``salt``: see ``node_key_sql``)."""
    log = SourceLog()
    (catalog,) = con.execute("select current_database()").fetchall()[0]
    sighting_queries: list[str] = []
    candidate_queries: list[str] = []
    sighting_key = node_key_sql("identifier_type", "identifier_key", salt)
    left_node, right_node = (
        node_key_sql("left_type", "left_key", salt),
        node_key_sql("right_type", "right_key", salt),
    )

    def source(rel: str) -> str:
        return f'"{catalog}".{rel}'

    def insert_sightings(query: str) -> None:
        sighting_queries.append(_SIGHTING.format(node_key=sighting_key, q=query))

    def insert_candidates(query: str, left_type: str, right_type: str) -> None:
        candidate_queries.append(_CANDIDATE.format(left_node=left_node, right_node=right_node, q=query))
        if (left_type, right_type) not in log.link_types:
            log.link_types.append((left_type, right_type))
            log.link_types.sort(
                key=lambda pair: (IDENTIFIER_TYPES.index(pair[0]), IDENTIFIER_TYPES.index(pair[1]))
            )

    def sight(rel: str, record_key: str, seen_at: str, itype: str, key: str, status: str = "null") -> None:
        _known(itype)
        insert_sightings(
            f"select '{itype}' as identifier_type, {key} as identifier_key, {status} as mobile_status, "
            f"'{rel}' as source, {record_key} as record_key, cast({seen_at} as timestamp) as seen_at "
            f"from {source(rel)}"
        )

    def link(
        rel: str, record_key: str, seen_at: str, rule: str, ltype: str, lkey: str, rtype: str, rkey: str
    ):
        tier = RULES[rule][0]
        _known(ltype)
        _known(rtype)
        insert_candidates(
            f"select '{ltype}' as left_type, {lkey} as left_key, '{rtype}' as right_type, {rkey} as "
            f"right_key, '{rel}' as source, {record_key} as record_key, '{rule}' as rule, {tier} as tier, "
            f"cast({seen_at} as timestamp) as seen_at from {source(rel)}",
            ltype,
            rtype,
        )

    # DMS vehicle sale: the owner's ID number and mobile. The VIN is deliberately not an identity.
    rel = "landing.vehicle_sales"
    if _available(
        con,
        log,
        rel,
        {
            "vin",
            "invoice_date",
            "owner_id_number_hmac",
            "owner_id_number_status",
            "owner_mobile_hmac",
            "owner_mobile_status",
        },
    ):
        key, seen = "coalesce(vin, '') || '|' || coalesce(cast(invoice_date as varchar), '')", "invoice_date"
        sight(rel, key, seen, "id_number", _valid_id("owner_id_number"))
        sight(rel, key, seen, "mobile", _mobile("owner_mobile"), "owner_mobile_status")
        link(
            rel,
            key,
            seen,
            "sale_owner_mobile",
            "id_number",
            _valid_id("owner_id_number"),
            "mobile",
            _mobile("owner_mobile"),
        )

    # WeChat binding (SMS-verified): openid — unionid — id_number — mobile, with the openid as hub.
    rel = "landing.wechat_bindings"
    if _available(
        con,
        log,
        rel,
        {
            "binding_id",
            "openid",
            "unionid",
            "id_number_hmac",
            "id_number_status",
            "mobile_hmac",
            "mobile_status",
            "bound_at",
        },
    ):
        key, seen = "cast(binding_id as varchar)", "bound_at"
        sight(rel, key, seen, "oa_openid", "nullif(openid, '')")
        sight(rel, key, seen, "unionid", "nullif(unionid, '')")
        sight(rel, key, seen, "id_number", _valid_id("id_number"))
        sight(rel, key, seen, "mobile", _mobile("mobile"), "mobile_status")
        link(
            rel,
            key,
            seen,
            "binding_wechat",
            "oa_openid",
            "nullif(openid, '')",
            "unionid",
            "nullif(unionid, '')",
        )
        link(
            rel,
            key,
            seen,
            "binding_verified_id",
            "oa_openid",
            "nullif(openid, '')",
            "id_number",
            _valid_id("id_number"),
        )
        link(
            rel,
            key,
            seen,
            "binding_verified_mobile",
            "oa_openid",
            "nullif(openid, '')",
            "mobile",
            _mobile("mobile"),
        )
        link(
            rel,
            key,
            seen,
            "binding_verified_mobile",
            "id_number",
            _valid_id("id_number"),
            "mobile",
            _mobile("mobile"),
        )

    # OA followers (user/info): openid — unionid
    rel = "wechat.oa_followers"
    if _available(con, log, rel, {"openid", "unionid"}):
        cols = _columns(con, "wechat", "oa_followers") or set()
        seen = "coalesce(subscribe_time, fetched_at)" if {"subscribe_time", "fetched_at"} <= cols else "null"
        sight(rel, "openid", seen, "oa_openid", "nullif(openid, '')")
        sight(rel, "openid", seen, "unionid", "nullif(unionid, '')")
        link(
            rel,
            "openid",
            seen,
            "oa_user_info",
            "oa_openid",
            "nullif(openid, '')",
            "unionid",
            "nullif(unionid, '')",
        )

    # WeCom external contacts: external_userid — unionid; remark mobiles are weak
    rel = "wechat.wecom_external_contacts"
    if _available(con, log, rel, {"external_userid", "unionid"}):
        cols = _columns(con, "wechat", "wecom_external_contacts") or set()
        follow = "follow_userid" if "follow_userid" in cols else "''"
        key = f"external_userid || '|' || coalesce({follow}, '')"
        seen = "createtime" if "createtime" in cols else "null"
        sight(rel, key, seen, "wecom_external_userid", "nullif(external_userid, '')")
        sight(rel, key, seen, "unionid", "nullif(unionid, '')")
        link(
            rel, key, seen, "wecom_contact_unionid",
            "wecom_external_userid", "nullif(external_userid, '')", "unionid", "nullif(unionid, '')",
        )  # fmt: skip
        if "remark_mobile_hmacs" in cols:
            remarks = (
                f"(select external_userid, {follow} as follow_userid, {seen} as seen, "
                f"unnest(remark_mobile_hmacs) as remark_mobile_hmac from {source(rel)})"
            )
            rkey = "external_userid || '|' || coalesce(follow_userid, '')"
            insert_sightings(
                "select 'mobile' as identifier_type, remark_mobile_hmac as identifier_key, 'valid' as "
                "mobile_status, "
                f"'{rel}' as source, {rkey} as record_key, cast(seen as timestamp) as seen_at from {remarks}"
            )
            insert_candidates(
                "select 'wecom_external_userid' as left_type, nullif(external_userid, '') as left_key, "
                "'mobile' as right_type, remark_mobile_hmac as right_key, "
                f"'{rel}' as source, {rkey} as record_key, 'wecom_remark_mobile' as rule, {TIER_WEAK} as "
                f"tier, cast(seen as timestamp) as seen_at from {remarks}",
                "wecom_external_userid",
                "mobile",
            )

    # Weak contacts: an openid and/or a mobile typed by someone at a booking, campaign, complaint, rescue
    weak = [
        ("landing.bookings", "booking_id", "created_at", "booking_contact"),
        ("landing.campaign_participants", "participant_id", "registered_at", "campaign_participant_contact"),
        ("landing.complaints", "complaint_no", "received_at", None),
        ("landing.rescues", "request_no", "received_at", None),
    ]
    for rel, key_col, seen, rule in weak:
        needed = {key_col, seen, "mobile_hmac", "mobile_status"} | ({"openid"} if rule else set())
        if not _available(con, log, rel, needed):
            continue
        key = f"cast({key_col} as varchar)"
        sight(rel, key, seen, "mobile", _mobile("mobile"), "mobile_status")
        if rule:
            sight(rel, key, seen, "oa_openid", "nullif(openid, '')")
            link(rel, key, seen, rule, "oa_openid", "nullif(openid, '')", "mobile", _mobile("mobile"))
    con.execute(_union_view(work, "id_sightings", sighting_queries, SIGHTING_COLUMNS))
    con.execute(_union_view(work, "id_candidates", candidate_queries, CANDIDATE_COLUMNS))
    return log


def staff_mobiles_sql(con: duckdb.DuckDBPyConnection, log: SourceLog) -> str:
    """A query of the HMACs of dealer staff mobiles (never an identity), empty when staff is absent."""
    if _available(con, log, "landing.staff", {"mobile_hmac"}):
        return (
            "select distinct mobile_hmac as identifier_key from landing.staff where mobile_hmac is not null"
        )
    return "select null::varchar as identifier_key where false"
