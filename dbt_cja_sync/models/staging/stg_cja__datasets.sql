-- One row per (connection, dataset) pair ever listed (deleted ones included: is_deleted_in_source).
{%- set src = cja_sync.cja_source('datasets') %}
{%- set cols = cja_sync.cja_columns(src) %}
select
    {{ cja_sync.cja_column(cols, 'connection_id') }},
    {{ cja_sync.cja_column(cols, 'data_set_id') }},
    {{ cja_sync.cja_column(cols, 'org_id') }},
    {{ cja_sync.cja_column(cols, 'name', 'data_set_name') }},
    {{ cja_sync.cja_column(cols, 'type', 'data_set_type') }},
    {{ cja_sync.cja_column(cols, 'domain') }},
    {{ cja_sync.cja_column(cols, 'data_source_type__id', 'data_source_type_id') }},
    {{ cja_sync.cja_column(cols, 'streaming', 'is_streaming', type='boolean') }},
    {{ cja_sync.cja_column(cols, 'streaming_enabled_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'last_ingested_time', 'last_ingested_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'first_seen_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'last_seen_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'deleted_in_source_at', type='timestamp with time zone') }},
    deleted_in_source_at is not null as is_deleted_in_source
from {{ src }}
