-- UN Comtrade (via WITS): Kazakhstan's exports and imports by partner, one row per
-- observation of the two SDMX-JSON responses, long form (flow = exports / imports).
-- The years come from each file's own TIME_PERIOD list (mapped by the ingest), the partner
-- from the PARTNER dimension's value the series key points to.
with

exports as (

    select
        *,
        'exports' as flow
    from {{ source('raw', 'un_comtrade_exports_by_partner') }}

),

imports as (

    select
        *,
        'imports' as flow
    from {{ source('raw', 'un_comtrade_imports_by_partner') }}

),

unioned as (

    select * from exports
    union all by name
    select * from imports

),

final as (

    select
        cast(year as integer) as year,
        flow,
        partner_code as wits_code,
        partner_name as wits_name,
        reporter,
        indicator,
        cast(value_kusd as decimal(24, 6)) as value_kusd,
        value_printed,
        'UN Comtrade via WITS, ' || indicator || ', ' || _source_file || ' ' || json_path
        || ' (partner ' || partner_code || ', ' || year || ')' as source_ref,
        _source_file as source_file,
        json_path
    from unioned

)

select * from final
