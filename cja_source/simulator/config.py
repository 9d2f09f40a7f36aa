"""Simulator configuration and the fixed vocabularies of the CJA Connections API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_CLIENT_ID = "cja-demo"
DEFAULT_CLIENT_SECRET = "cja-demo-secret"
DEFAULT_ORG_ID = "DEMO0000000000000000000@AdobeOrg"


@dataclass
class SimConfig:
    seed: int = 42
    connections: int = 573  # the guide's example totalElements
    max_datasets_per_connection: int = 100
    # int -> every generated connection gets exactly this many datasets (for the maximal-org case)
    datasets_per_connection: int | None = None
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    org_id: str = DEFAULT_ORG_ID
    # {client_id: (client_secret, admin)}; a non-admin client sees an empty org, as a real non-admin does
    extra_clients: dict[str, tuple[str, bool]] = field(default_factory=dict)
    rate_limit: tuple[int, float] | None = (12, 6.0)
    retry_after: bool = False
    latency_ms: tuple[float, float] = (0, 0)
    error_rate: float = 0.0
    token_ttl: float = 86399
    inline_backfills: bool = True
    # ids with characters a URL path must percent-encode (see generate.ODD_ID_SUFFIXES)
    odd_ids: bool = False
    page_shape: str = "guide"
    # a data view's dimensions and metrics: "page" (an envelope of page_shape) or "list" (a bare
    # list, as the spec's response schema reads)
    component_shape: str = "page"
    cache_max_age: float = 0.0
    now: datetime | None = None
    # connection and dataset names from simulator/hostile.py (markup, escapes, NUL, 100 KB, ...)
    hostile_names: bool = False

    def __post_init__(self) -> None:
        if self.page_shape not in ("guide", "spring"):
            raise ValueError(f"page_shape must be 'guide' or 'spring', not {self.page_shape!r}")
        if self.component_shape not in ("page", "list"):
            raise ValueError(f"component_shape must be 'page' or 'list', not {self.component_shape!r}")
        if self.connections < 0:
            raise ValueError("connections must be >= 0")
        if self.max_datasets_per_connection < 1:
            raise ValueError("max_datasets_per_connection must be >= 1")
        if self.rate_limit is not None:
            n, w = self.rate_limit
            if n < 1 or w <= 0:
                raise ValueError("rate_limit must be (requests >= 1, window seconds > 0) or None")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be within 0..1")


# Expansion enums from the official spec: the list endpoint accepts 30 values, get-by-id/search 34.
LIST_EXPANSIONS: frozenset[str] = frozenset(
    [
        "name",
        "primaryIdType",
        "configuredContainers",
        "description",
        "owner",
        "isDeleted",
        "isDisabled",
        "dataSets",
        "createdDate",
        "modified",
        "caseSensitive",
        "organization",
        "components",
        "numDailyEvents",
        "externalData",
        "backfillEnabled",
        "granularBackfills",
        "granularStreaming",
        "backfillsSummaryConnection",
        "backfillsSummaryDataSets",
        "dataSetLastIngested",
        "componentType",
        "sandboxName",
        "sandboxId",
        "fieldsId",
        "floatPrecision",
        "dataRetentionMonths",
        "validationErrors",
        "resolveIdentityNamespace",
        "stitchedDataSets",
    ]
)
BY_ID_ONLY_EXPANSIONS: frozenset[str] = frozenset({"ownerFullName", "schemaInfo", "tags", "internalLabels"})
GET_EXPANSIONS: frozenset[str] = LIST_EXPANSIONS | BY_ID_ONLY_EXPANSIONS

# Expansion values that map 1:1 to a connection field of the same name.
SIMPLE_CONNECTION_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "owner",
    "isDeleted",
    "isDisabled",
    "createdDate",
    "caseSensitive",
    "organization",
    "numDailyEvents",
    "backfillEnabled",
    "sandboxName",
    "sandboxId",
    "fieldsId",
    "floatPrecision",
    "dataRetentionMonths",
    "primaryIdType",
    "configuredContainers",
)

DATA_SOURCE_TYPES: tuple[tuple[str, str, str], ...] = (
    ("webData", "Web Data", "Data collected from websites"),
    ("mobileAppData", "Mobile App Data", "Data collected from mobile applications"),
    ("posData", "POS Data", "Point-of-sale transactions"),
    ("crmData", "CRM Data", "Customer relationship management records"),
    ("surveyData", "Survey Data", "Survey responses"),
    ("productData", "Product Data", "Product catalog data"),
    ("callCenterData", "Call Center Data", "Call center interactions"),
    ("accountsData", "Accounts Data", "Account records"),
    ("transactionData", "Transaction Data", "Transactions"),
    ("customerFeedbackData", "Customer Feedback Data", "Customer feedback"),
    ("other", "Other", "Any other data"),
)

VALIDATION_ERROR_CODES: tuple[str, ...] = (
    "MISSING_FIELD",
    "DISALLOWED_FIELD",
    "INVALID_CONNECTION_NAME",
    "INVALID_SANDBOX_ID",
    "INVALID_SANDBOX_NAME",
    "INVALID_DOMAIN",
    "INVALID_DATA_SET_TYPE",
    "INVALID_VISITOR_ID",
    "INVALID_NAME_SPACE",
    "INVALID_IDENTITY_NAMESPACE",
    "INVALID_IDENTITY_MAP",
    "INVALID_LOOKUP_KEY_FIELD",
    "INVALID_LOOKUP_PARENT_FIELDS",
    "INVALID_USE_PRIMARY_ID_NAME_SPACE",
    "INVALID_DATA_SOURCE_TYPE",
    "DATA_SET_DOES_NOT_EXIST",
    "REQUIRED_EVENT_DATA_SET_MISSING",
    "SCHEMA_UNAVAILABLE",
    "NAMESPACE_UNAVAILABLE",
    "DATASET_BACKFILL_REQUEST_LIMIT_EXCEEDED",
    "DATASETS_PER_CONNECTION_LIMIT_EXCEEDED",
)

BACKFILL_STATUSES: tuple[str, ...] = ("COMPLETED", "FAILED", "IN_PROGRESS", "IN_QUEUE")
# includeStatus values (camelCase in the request, upper-snake in the response); IN_QUEUE has none
INCLUDE_STATUS: dict[str, str] = {"inProgress": "IN_PROGRESS", "completed": "COMPLETED", "failed": "FAILED"}
B2B_CONTAINERS: tuple[str, ...] = ("account", "globalAccount", "opportunity", "buyingGroup")
DATASET_TYPES: tuple[str, ...] = ("event", "lookup", "profile", "summary")
ENDPOINTS: tuple[str, ...] = (
    "token",
    "list",
    "get",
    "backfills",
    "configurationSettings",
    "search",
    "dataviews",
    "dataview",
    "dimensions",
    "metrics",
)
