"""Hand-built warehouses with the landing/wechat columns of docs/architecture.md.

Values go in raw (as a dealer typed them) and are normalized, classified and keyed-hashed with the
shared ``sources.identifiers`` functions, exactly as ingestion lands them.
"""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb

from sources.identifiers import classify_mobile, id_check_char, keyed_hash, parse_id_number

KEY = b"identity-test-key-0123456789abcdefghi"


def hmac(normalized: str) -> str:
    return keyed_hash(normalized, KEY)


def id_number(n: int, birth: str = "19800101") -> str:
    """A valid 18-character ID number, distinct for each ``n``."""
    body = f"110105{birth}{n:03d}"
    return body + id_check_char(body)


def mobile(n: int) -> str:
    """A valid, non-placeholder mobile, distinct for each ``n``."""
    return f"139{(n * 7919 + 10_000_003) % 100_000_000:08d}"


def _mobile_cols(raw: str | None) -> tuple[str | None, str]:
    normalized, status = classify_mobile(raw)
    return (hmac(normalized) if normalized else None), str(status)


def _id_cols(raw: str | None) -> tuple[str | None, str]:
    parsed = parse_id_number(raw)
    return (hmac(parsed.normalized) if parsed.normalized else None), str(parsed.status)


class FixtureWarehouse:
    """An in-memory (or file) DuckDB with the identity-relevant source tables."""

    def __init__(self, path: str = ":memory:", tables: tuple[str, ...] | None = None):
        self.con = duckdb.connect(path)
        self._seq = itertools.count(1)
        self.con.execute("create schema if not exists landing")
        self.con.execute("create schema if not exists wechat")
        ddl = {
            "landing.vehicle_sales": (
                "vin varchar, invoice_date date, dealer_code varchar, "
                "owner_id_number_hmac varchar, owner_id_number_status varchar, "
                "owner_mobile_hmac varchar, owner_mobile_status varchar"
            ),
            "landing.wechat_bindings": (
                "binding_id varchar, openid varchar, unionid varchar, "
                "id_number_hmac varchar, id_number_status varchar, mobile_hmac varchar, mobile_status "
                "varchar, status varchar, bound_at timestamp"
            ),
            "landing.bookings": (
                "booking_id varchar, openid varchar, mobile_hmac varchar, mobile_status "
                "varchar, vin varchar, created_at timestamp"
            ),
            "landing.complaints": (
                "complaint_no varchar, mobile_hmac varchar, mobile_status varchar, "
                "vin varchar, received_at timestamp"
            ),
            "landing.campaign_participants": (
                "participant_id varchar, openid varchar, mobile_hmac varchar, "
                "mobile_status varchar, vin varchar, registered_at timestamp"
            ),
            "landing.rescues": (
                "request_no varchar, mobile_hmac varchar, mobile_status varchar, "
                "vin varchar, received_at timestamp"
            ),
            "landing.staff": (
                "staff_id varchar, dealer_code varchar, mobile_hmac varchar, mobile_status varchar"
            ),
            "landing.repair_orders": (
                "ro_no varchar, vin varchar, sender_mobile_hmac varchar, "
                "sender_mobile_status varchar, opened_at timestamp"
            ),
            "wechat.oa_followers": (
                "openid varchar, unionid varchar, subscribe boolean, "
                "subscribe_time timestamp, fetched_at timestamp"
            ),
            "wechat.wecom_external_contacts": (
                "external_userid varchar, follow_userid varchar, unionid "
                "varchar, createtime timestamp, remark_mobile_hmacs varchar[], fetched_at timestamp"
            ),
        }
        for name, columns in ddl.items():
            if tables is None or name in tables:
                self.con.execute(f"create table {name} ({columns})")

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._seq):06d}"

    def sale(self, vin: str, on: str, id_raw: str | None, mobile_raw: str | None, dealer: str = "D001"):
        ih, istatus = _id_cols(id_raw)
        mh, mstatus = _mobile_cols(mobile_raw)
        self.con.execute(
            "insert into landing.vehicle_sales values (?, ?, ?, ?, ?, ?, ?)",
            [vin, dt.date.fromisoformat(on), dealer, ih, istatus, mh, mstatus],
        )

    def binding(self, openid: str, unionid: str | None, id_raw: str | None, mobile_raw: str | None, on: str):
        ih, istatus = _id_cols(id_raw)
        mh, mstatus = _mobile_cols(mobile_raw)
        self.con.execute(
            "insert into landing.wechat_bindings values (?, ?, ?, ?, ?, ?, ?, '有效', ?)",
            [self._id("B"), openid, unionid, ih, istatus, mh, mstatus, dt.datetime.fromisoformat(on)],
        )

    def follower(self, openid: str, unionid: str | None, on: str = "2024-01-01"):
        self.con.execute(
            "insert into wechat.oa_followers values (?, ?, true, ?, ?)",
            [openid, unionid, dt.datetime.fromisoformat(on), dt.datetime(2026, 1, 1)],
        )

    def wecom_contact(
        self, external_userid: str, unionid: str | None, remark_mobiles=(), on: str = "2024-01-01"
    ):
        hmacs = [hmac(m) for m in remark_mobiles]
        self.con.execute(
            "insert into wechat.wecom_external_contacts values (?, 'cs01', ?, ?, ?, ?)",
            [external_userid, unionid, dt.datetime.fromisoformat(on), hmacs, dt.datetime(2026, 1, 1)],
        )

    def booking(self, openid: str | None, mobile_raw: str | None, on: str = "2025-01-01"):
        mh, mstatus = _mobile_cols(mobile_raw)
        self.con.execute(
            "insert into landing.bookings values (?, ?, ?, ?, null, ?)",
            [self._id("BK"), openid, mh, mstatus, dt.datetime.fromisoformat(on)],
        )

    def complaint(self, mobile_raw: str, on: str = "2025-01-01"):
        mh, mstatus = _mobile_cols(mobile_raw)
        self.con.execute(
            "insert into landing.complaints values (?, ?, ?, null, ?)",
            [self._id("C"), mh, mstatus, dt.datetime.fromisoformat(on)],
        )

    def staff(self, mobile_raw: str):
        mh, mstatus = _mobile_cols(mobile_raw)
        self.con.execute("insert into landing.staff values (?, 'D001', ?, ?)", [self._id("S"), mh, mstatus])

    def repair_order(self, vin: str, sender_mobile_raw: str, on: str = "2025-02-01"):
        mh, mstatus = _mobile_cols(sender_mobile_raw)
        self.con.execute(
            "insert into landing.repair_orders values (?, ?, ?, ?, ?)",
            [self._id("RO"), vin, mh, mstatus, dt.datetime.fromisoformat(on)],
        )

    # ------------------------------------------------------------------ reading results

    def oneid_of(self, identifier_type: str, value: str) -> str | None:
        key = value if identifier_type not in ("mobile", "id_number") else hmac(value)
        row = self.con.execute(
            "select oneid from identity.oneid_map where identifier_type = ? and identifier_key = ?",
            [identifier_type, key],
        ).fetchall()
        return row[0][0] if row else None

    def changes(self) -> list[tuple]:
        return self.con.execute(
            "select change, old_oneid, new_oneid from identity.oneid_changes order by run_at, 1, 2, 3"
        ).fetchall()
