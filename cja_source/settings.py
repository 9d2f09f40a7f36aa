"""Constants and endpoint descriptions of the CJA Connections API, as data.

Sources: Adobe's OpenAPI file (its Connections subset is
tests/simulator/reference/cja-apis_connections_subset.openapi.json), the Connections guide and the FAQ.
"""

from __future__ import annotations

from urllib.parse import quote

DEFAULT_BASE_URL = "https://cja.adobe.io"
DEFAULT_TOKEN_URL = "https://ims-na1.adobelogin.com/ims/token/v3"
DEFAULT_SCOPES = "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"

# The gateway answers 429 past 12 requests in any rolling 6 s window (FAQ).
DEFAULT_REQUESTS_PER_WINDOW = 12
DEFAULT_WINDOW_SECONDS = 6.0
# adobe.io cuts every request at 60 s (FAQ), so waiting longer never helps.
GATEWAY_TIMEOUT_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 10.0

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 1000
DEFAULT_MAX_CONCURRENCY = 4
# A page that times out is asked again at half the size, down to this many items.
MIN_PAGE_SIZE = 10
MAX_ATTEMPTS = 8
# Tries of one request when nothing answers at the address at all (connection refused, unknown
# host): a gateway under load answers slowly or with 5xx, it does not refuse, so a refusal that
# repeats means a wrong URL or a service that is down, and waiting minutes for it helps no one.
UNREACHABLE_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 60.0

BACKFILL_MODES = ("auto", "inline", "endpoint")
BACKFILL_STATUSES = ("COMPLETED", "FAILED", "IN_PROGRESS", "IN_QUEUE")

# Endpoint name -> path template. The names are the keys of the request counters.
ENDPOINTS: dict[str, str] = {
    "list": "/data/connections",
    "get": "/data/connections/{connection_id}",
    "backfills": "/data/connections/{connection_id}/datasets/{data_set_id}/backfills",
    "configurationSettings": "/data/connections/configurationSettings",
    "dataviews": "/data/dataviews",
    "dimensions": "/data/dataviews/{data_view_id}/dimensions",
    "metrics": "/data/dataviews/{data_view_id}/metrics",
}

# Guardrails (Adobe's "system-enforced" limits): they bound every paged read, so a listing that
# never says "last" ends in an error instead of an endless run.
MAX_CONNECTIONS_PER_ORG = 1000
# A backfills list may grow between the listing (backfillSummary.total) and its fetch; a list
# without a summary gets the fixed cap.
BACKFILLS_GROWTH_ALLOWED = 50
MAX_BACKFILLS_WITHOUT_SUMMARY = 10_000


def endpoint_path(endpoint: str, **ids: str) -> str:
    """The path of `endpoint` with every id percent-encoded as one path segment: an id holding
    `/`, `#`, `?`, `%` or a space must reach the service as itself, not as a path, a fragment or
    a query."""
    return ENDPOINTS[endpoint].format(**{k: quote(str(v), safe="") for k, v in ids.items()})


# Every list expansion whose output is documented. `components`, `componentType`,
# `granularStreaming`, `resolveIdentityNamespace` and `stitchedDataSets` are left out: their
# payloads are undocumented and `components` can dwarf the rest of a connection.
LIST_EXPANSIONS: tuple[str, ...] = (
    "name",
    "description",
    "owner",
    "isDeleted",
    "isDisabled",
    "dataSets",
    "createdDate",
    "modified",
    "caseSensitive",
    "organization",
    "numDailyEvents",
    "externalData",
    "backfillEnabled",
    "backfillsSummaryConnection",
    "backfillsSummaryDataSets",
    "dataSetLastIngested",
    "sandboxName",
    "sandboxId",
    "fieldsId",
    "floatPrecision",
    "dataRetentionMonths",
    "validationErrors",
    "primaryIdType",
    "configuredContainers",
)
# Inline backfill lists (undocumented behaviour: some orgs return them, some do not).
INLINE_BACKFILLS_EXPANSION = "granularBackfills"
# schemaInfo is only accepted by the by-id endpoint.
SCHEMA_INFO_EXPANSIONS = ("dataSets", "schemaInfo")

# Data views (the OpenAPI file's /data/dataviews paths): every list expansion, deleted data views
# included so that a deletion is seen as `isDeleted`, not only as an absence.
DATA_VIEW_EXPANSIONS: tuple[str, ...] = (
    "name",
    "description",
    "owner",
    "isDeleted",
    "parentDataGroupId",
    "segmentList",
    "currentTimezoneOffset",
    "timezoneDesignator",
    "modified",
    "createdDate",
    "organization",
    "curationEnabled",
    "recentRecordedAccess",
    "sessionDefinition",
    "externalData",
    "containerNames",
)
# Adobe's guardrail is 2,000 data views per org; deleted ones are listed too, so twice that bounds
# a listing that never says "last".
MAX_DATA_VIEWS_PER_ORG = 4000
# A dimension's or metric's fields we store. Settings objects (persistence, attribution, format,
# bucketing, field definitions) and usage summaries are left out: large, and about reporting, not
# about which datasets a component reads.
COMPONENT_EXPANSIONS: tuple[str, ...] = (
    "description",
    "sourceFieldId",
    "sourceFieldName",
    "sourceFieldType",
    "hidden",
    "hasData",
    "type",
    "dataSetIds",
    "dataSetType",
    "schemaPath",
)
COMPONENT_KINDS = ("dimension", "metric")  # endpoint "dimensions" / "metrics"
# No limit on components per data view is documented; a list past this many stops with an error.
MAX_COMPONENTS_PER_LIST = 20_000

# Gateway error codes -> what the user should do about them.
GATEWAY_HINTS: dict[str, str] = {
    "401013": "the access token was rejected; check client_id/client_secret and token_url",
    "403010": "no access token was sent",
    "403000": "no API key was sent",
    "403003": "the API key (client_id) is not valid for this credential",
    "400003": "the x-gw-ims-org-id header is missing; set sources.cja.credentials.org_id",
    "403025": "the credential is not entitled for this org; check org_id and the product profile",
    "403027": (
        "check sources.cja.credentials.org_id (…@AdobeOrg) and that the Developer Console project "
        "has the Adobe Experience Platform API and a CJA product profile"
    ),
}
