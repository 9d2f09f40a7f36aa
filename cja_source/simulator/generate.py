"""Deterministic generation of a realistic org. Everything is derived from the seed and the sim clock."""

from __future__ import annotations

from random import Random
from typing import Any

from .config import B2B_CONTAINERS, DATA_SOURCE_TYPES, VALIDATION_ERROR_CODES, SimConfig
from .hostile import hostile_name
from .model import Backfill, Connection, Dataset, rand_hex, rand_uuid

HOUR = 3_600_000
DAY = 24 * HOUR

_FIRST = ("Ana", "Ben", "Chloe", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam")
_LAST = ("Silva", "Okafor", "Martin", "Ivanov", "Schmidt", "Haddad", "Lee", "Tanaka", "Costa", "Berg")
_WORDS = (
    "Web",
    "Mobile",
    "Loyalty",
    "Retail",
    "EMEA",
    "APAC",
    "Checkout",
    "Support",
    "B2C",
    "Media",
    "Campaign",
    "Store",
    "Journey",
    "Global",
    "Partner",
    "Subscription",
)
_DS_WORDS = (
    "events",
    "profiles",
    "orders",
    "products",
    "accounts",
    "sessions",
    "clicks",
    "calls",
    "surveys",
    "inventory",
    "leads",
    "devices",
)


# With SimConfig.odd_ids, ids end in one of these in turn: what a URL treats as a fragment, a
# query, an encoded or a real path separator, and text a URL must percent-encode.
ODD_ID_SUFFIXES = ("#frag", "?x=1&y", "a%2Fb", " with space", "é中", "quo\"te'", "sl/ash", "100%")


class Generator:
    def __init__(self, cfg: SimConfig, now_ms: int) -> None:
        self.cfg = cfg
        self.rng = Random(cfg.seed)
        r = Random(cfg.seed ^ 0x5EED)
        self.users = [
            (f"{rand_hex(r, 24).upper()}@AdobeID", f"{r.choice(_FIRST)} {r.choice(_LAST)}") for _ in range(12)
        ]
        self.system_users = [
            (f"{rand_hex(r, 24).upper()}@techacct.adobe.com", f"System user {i + 1}") for i in range(2)
        ]
        self.sandboxes = [(rand_uuid(r), name) for name in ("prod", "dev", "stage", "emea-prod")]
        self.now_ms = now_ms
        self.names_given = 0  # hostile names in turn, without drawing from the seeded streams
        self._odd = 0

    def odd(self, plain: str) -> str:
        """`plain` with the next odd suffix when the config asks for odd ids."""
        if not self.cfg.odd_ids:
            return plain
        self._odd += 1
        return plain + ODD_ID_SUFFIXES[self._odd % len(ODD_ID_SUFFIXES)]

    # ----- connections -----

    def connection(
        self, rng: Random | None = None, now_ms: int | None = None, n_datasets: int | None = None
    ) -> Connection:
        r = rng or self.rng
        now = self.now_ms if now_ms is None else now_ms
        cfg = self.cfg
        uid = self.odd(rand_uuid(r))
        system = r.random() < 0.06
        owner_id, owner_name = r.choice(self.system_users if system else self.users)
        mod_by, mod_name = r.choice(self.users)
        created = now - r.randint(30 * DAY, 900 * DAY) - r.randint(0, DAY)
        modified = r.randint(created, now - r.randint(1, 3 * HOUR))
        sandbox_id, sandbox_name = self.sandboxes[0] if r.random() < 0.55 else r.choice(self.sandboxes)
        b2b = r.random() < 0.08
        if n_datasets is None:
            n_datasets = cfg.datasets_per_connection or self._skewed_count(r, cfg.max_datasets_per_connection)
        ds = tuple(self.dataset(r, now, b2b, i) for i in range(max(n_datasets, 0)))
        ds = self._link_lookups(r, ds)
        containers = [{"container": c} for c in ["account", *r.sample(B2B_CONTAINERS[1:], r.randint(0, 3))]]
        f: dict[str, Any] = {
            "name": f"{r.choice(_WORDS)} {r.choice(_WORDS)} {r.randint(1, 999)}",
            "description": "" if r.random() < 0.3 else f"Connection for {r.choice(_WORDS).lower()} reporting",
            "owner": {
                "imsUserId": owner_id,
                "ownerId": owner_id,
                "name": None,
                "type": "systemUser" if system else "imsUser",
            },
            "isDeleted": False,
            "isDisabled": r.random() < 0.07,
            "createdDate": created,  # epoch ms internally, formatted at render
            "modifiedDate": modified,
            "modifiedBy": mod_by,
            "modifiedByFullName": mod_name,
            "caseSensitive": r.random() < 0.2,
            "organization": cfg.org_id,
            "numDailyEvents": r.randint(0, 50_000_000),
            "backfillEnabled": r.random() < 0.9,
            "sandboxName": sandbox_name,
            "sandboxId": sandbox_id,
            "fieldsId": rand_hex(r, 24),
            "floatPrecision": r.choice((2, 4, 6)),
            "dataRetentionMonths": r.choice((13, 25, 37, 61)),
            "primaryIdType": "account" if b2b else "person",
            "configuredContainers": containers if b2b else [],
            "connectionValidationErrors": self._validation_errors(r, ds),
        }
        # the spec types tags as objects whose every value is an object
        n_tags = r.randint(0, 2)
        tags = [{"tag": {"id": rand_hex(r, 8), "name": r.choice(_WORDS).lower()}} for _ in range(n_tags)]
        if cfg.hostile_names:
            f["name"] = self._hostile_name()
        return Connection(uid, f, ds, owner_name, tags)

    def _hostile_name(self) -> str:
        self.names_given += 1
        return hostile_name(self.names_given - 1)

    @staticmethod
    def _skewed_count(r: Random, hi: int) -> int:
        # most connections have 1-5 datasets, a long tail goes up to the 100-per-connection guardrail
        x = r.random()
        if x < 0.75:
            n = r.randint(1, 5)
        elif x < 0.95:
            n = r.randint(6, 20)
        else:
            n = r.randint(21, 100)
        return max(1, min(n, hi))

    def _validation_errors(self, r: Random, ds: tuple[Dataset, ...]) -> list[dict[str, Any]]:
        if not ds or r.random() >= 0.07:
            return []
        out = []
        for _ in range(r.randint(1, 2)):
            d = r.choice(ds)
            code = r.choice(VALIDATION_ERROR_CODES)
            e: dict[str, Any] = {"errorCode": code, "dataSetId": d.id, "dataSetName": d.name}
            if code == "MISSING_FIELD":
                e["missingField"] = "_exampleorg.crmId"
            elif code == "DISALLOWED_FIELD":
                e["disallowedField"] = "_exampleorg.ssn"
            out.append(e)
        return out

    # ----- datasets -----

    def dataset(self, r: Random, now: int, b2b: bool, i: int) -> Dataset:
        if i == 0:
            dtype = "event"
        else:
            x = r.random()
            dtype = "event" if x < 0.45 else "lookup" if x < 0.75 else "profile" if x < 0.92 else "summary"
        streaming = dtype in ("event", "profile") and r.random() < 0.5
        sea = now - r.randint(10 * DAY, 400 * DAY) if streaming else None
        if streaming:
            li = None if r.random() < 0.1 else now - _ingestion_age(r.randint(0, 120 * HOUR))
        else:
            li = None if r.random() < 0.05 else now - r.randint(HOUR, 30 * DAY)
        container = r.choice(("person", *B2B_CONTAINERS)) if b2b else None
        dst = 0 if dtype == "event" and r.random() < 0.5 else r.randrange(len(DATA_SOURCE_TYPES))
        name = f"{r.choice(_DS_WORDS)}_{dtype}_{r.randint(1, 9999)}"
        if self.cfg.hostile_names:
            name = self._hostile_name()
        return Dataset(
            self.odd(rand_hex(r, 24)),
            name,
            dtype,
            dst,
            streaming,
            sea,
            li,
            r.random() < 0.05,
            r.getrandbits(16),
            None,
            container,
            self.backfills(r, now),
        )

    @staticmethod
    def _link_lookups(r: Random, ds: tuple[Dataset, ...]) -> tuple[Dataset, ...]:
        events = [d for d in ds if d.type == "event"]
        for d in ds:
            if d.type == "lookup" and events and r.random() < 0.3:
                p = r.choice(events)
                d.parent = (p.id, p.type)
        return ds

    def backfills(self, r: Random, now: int) -> tuple[Backfill, ...]:
        x = r.random()
        if x < 0.2:
            return ()
        n = r.randint(1, 9) if x < 0.94 else r.randint(11, 30)  # a tail longer than one page of 10
        rand, rint = r.random, r.randint
        out: list[Backfill] = []
        for _ in range(n):
            y = rand()
            if y < 0.7:
                status = "COMPLETED"
            elif y < 0.8:
                status = "FAILED"
            elif y < 0.9:
                status = "IN_PROGRESS"
            else:
                status = "IN_QUEUE"
            if status in ("COMPLETED", "FAILED"):
                created = now - rint(HOUR, 180 * DAY)
            elif rand() < 0.8:
                created = now - rint(60_000, 6 * DAY)  # most open backfills are young
            else:
                created = now - rint(8 * DAY, 60 * DAY)  # stuck
            if rand() < 0.6:
                out.append((rand_uuid(r), status, created, True, None, None))
            else:
                end = created - rint(0, 30 * DAY)
                out.append((rand_uuid(r), status, created, False, end - rint(DAY, 365 * DAY), end))
        out.sort(key=lambda b: b[2])
        return tuple(out)

    def backfill(self, r: Random, status: str, created_ms: int) -> Backfill:
        return (rand_uuid(r), status, created_ms, True, None, None)


def _ingestion_age(draw: int) -> int:
    """Most streaming datasets ingested within the last 36 h; the last quarter of draws spreads
    across the 48 h cut into weeks (stale). A deterministic remap of the draw, so seeds keep
    generating the same org otherwise."""
    u = draw / (120 * HOUR)
    if u < 0.75:
        return int(u / 0.75 * 36 * HOUR)
    return int(36 * HOUR + (u - 0.75) / 0.25 * (20 * DAY - 36 * HOUR))
