-- Adobe's catalogue of data source types (one for every org).
{%- set src = cja_sync.cja_source('data_source_types') %}
{%- set cols = cja_sync.cja_columns(src) %}
select
    {{ cja_sync.cja_column(cols, 'id', 'data_source_type_id') }},
    {{ cja_sync.cja_column(cols, 'type', 'data_source_type') }},
    {{ cja_sync.cja_column(cols, 'description') }},
    {{ cja_sync.cja_column(cols, 'locale') }},
    {{ cja_sync.cja_column(cols, 'last_seen_at', type='timestamp with time zone') }}
from {{ src }}
