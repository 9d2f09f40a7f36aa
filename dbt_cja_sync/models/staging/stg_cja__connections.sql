-- One row per CJA connection ever listed (deleted ones included: is_deleted_in_source).
{%- set src = cja_sync.cja_source('connections') %}
{%- set cols = cja_sync.cja_columns(src) %}
select
    {{ cja_sync.cja_column(cols, 'id', 'connection_id') }},
    {{ cja_sync.cja_column(cols, 'org_id') }},
    {{ cja_sync.cja_column(cols, 'name', 'connection_name') }},
    {{ cja_sync.cja_column(cols, 'description') }},
    {{ cja_sync.cja_column(cols, 'owner__owner_id', 'owner_id') }},
    {{ cja_sync.cja_column(cols, 'owner__type', 'owner_type') }},
    {{ cja_sync.cja_column(cols, 'sandbox_id') }},
    {{ cja_sync.cja_column(cols, 'sandbox_name') }},
    {{ cja_sync.cja_column(cols, 'primary_id_type') }},
    {{ cja_sync.cja_column(cols, 'data_retention_months', type='bigint') }},
    {{ cja_sync.cja_column(cols, 'num_daily_events', type='bigint') }},
    {{ cja_sync.cja_column(cols, 'is_disabled', type='boolean') }},
    {{ cja_sync.cja_column(cols, 'backfill_enabled', 'is_backfill_enabled', type='boolean') }},
    {{ cja_sync.cja_column(cols, 'created_date', 'created_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'modified_date', 'modified_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'modified_by') }},
    {{ cja_sync.cja_column(cols, 'first_seen_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'last_seen_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'deleted_in_source_at', type='timestamp with time zone') }},
    deleted_in_source_at is not null as is_deleted_in_source
from {{ src }}
