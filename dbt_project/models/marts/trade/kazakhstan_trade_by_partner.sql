-- Kazakhstan's foreign trade by partner, one row per partner row of the latest release
-- that carries each year. Aggregate rows (total, CIS, EAEU, EU, continents …) are kept
-- but flagged, and have no ISO code: filter `not is_aggregate` before summing countries.
with

mapped as (

    select * from {{ ref('int_trade__annual_partners') }}

),

latest as (

    select * from {{ ref('int_trade__latest_release') }}

),

final as (

    select
        mapped.year,
        mapped.partner_name_ru,
        mapped.partner_name_en,
        mapped.partner_iso3,
        mapped.is_aggregate,
        mapped.aggregate_kind,
        mapped.partner_key,
        mapped.turnover_kusd,
        mapped.exports_kusd,
        mapped.imports_kusd,
        mapped.turnover_share_pct,
        mapped.exports_share_pct,
        mapped.imports_share_pct,
        mapped.release,
        mapped.release_published,
        mapped.sheet,
        mapped.period,
        mapped.row_no,
        latest.n_releases,
        mapped.source_ref
    from mapped
    inner join latest
        on mapped.year = latest.year
        and mapped.release = latest.latest_release
    order by mapped.year, mapped.row_no

)

select * from final
