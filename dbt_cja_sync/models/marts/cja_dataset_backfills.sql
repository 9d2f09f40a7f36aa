-- Example mart: one row per live (connection, dataset) with its names, its data source type and its
-- backfills by status, joined on the natural keys. What the staging models are for; the health
-- views (sources connection_health, backfill_health) already answer "what needs attention".
-- Counts are cast to bigint: DuckDB sums integers into HUGEINT, which many BI drivers cannot read.
with datasets as (
    select * from {{ cja_sync.cja_ref('stg_cja__datasets') }}
    where not is_deleted_in_source
),

connections as (
    select * from {{ cja_sync.cja_ref('stg_cja__connections') }}
    where not is_deleted_in_source
),

source_types as (
    select * from {{ cja_sync.cja_ref('stg_cja__data_source_types') }}
),

backfills as (
    select
        connection_id,
        data_set_id,
        cast(count(*) as bigint) as backfills_total,
        cast(sum(case when status = 'COMPLETED' then 1 else 0 end) as bigint) as backfills_completed,
        cast(sum(case when status = 'FAILED' then 1 else 0 end) as bigint) as backfills_failed,
        cast(sum(case when is_open then 1 else 0 end) as bigint) as backfills_open,
        max(created_at) as last_backfill_created_at
    from {{ cja_sync.cja_ref('stg_cja__backfills') }}
    group by connection_id, data_set_id
)

select
    datasets.org_id,
    datasets.connection_id,
    connections.connection_name,
    datasets.data_set_id,
    datasets.data_set_name,
    datasets.data_set_type,
    source_types.data_source_type,
    datasets.is_streaming,
    datasets.last_ingested_at,
    coalesce(backfills.backfills_total, 0) as backfills_total,
    coalesce(backfills.backfills_completed, 0) as backfills_completed,
    coalesce(backfills.backfills_failed, 0) as backfills_failed,
    coalesce(backfills.backfills_open, 0) as backfills_open,
    backfills.last_backfill_created_at
from datasets
join connections on connections.connection_id = datasets.connection_id
left join source_types on source_types.data_source_type_id = datasets.data_source_type_id
left join backfills
    on backfills.connection_id = datasets.connection_id
    and backfills.data_set_id = datasets.data_set_id
