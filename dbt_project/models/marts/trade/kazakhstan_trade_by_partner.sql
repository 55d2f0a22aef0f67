-- Kazakhstan's foreign trade by partner, one row per year × partner, each year from one source
-- chosen by preference (int_trade__source_years): the bureau's latest release carrying the
-- year, else the processed bureau figures, else UN Comtrade. Bureau rows keep the printed
-- row (aggregates flagged, shares as printed); rows of the other sources are built from their
-- exports and imports (turnover = exports + imports; shares of the source's own total where it
-- has one). Aggregates have no ISO code: filter `not is_aggregate` before summing countries.
with

source_years as (

    select * from {{ ref('int_trade__source_years') }}

),

mapped as (

    select * from {{ ref('int_trade__annual_partners') }}

),

latest as (

    select * from {{ ref('int_trade__latest_release') }}

),

bureau_rows as (

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
        'bureau_release' as source,
        mapped.source_ref
    from mapped
    inner join latest
        on mapped.year = latest.year
        and mapped.release = latest.latest_release
    inner join source_years
        on mapped.year = source_years.year
        and source_years.chosen_source = 'bureau_release'

),

other_cells as (

    select candidates.*
    from {{ ref('int_trade__all_sources') }} as candidates
    inner join source_years
        on candidates.year = source_years.year
        and candidates.source = source_years.chosen_source
    where candidates.source <> 'bureau_release'

),

other_pivot as (

    select
        year,
        partner_key,
        any_value(source) as source,
        any_value(partner_name_en) as partner_name_en,
        any_value(partner_iso3) as partner_iso3,
        any_value(is_aggregate) as is_aggregate,
        any_value(aggregate_kind) as aggregate_kind,
        max(source_label) filter (where source = 'bureau_processed') as partner_name_ru,
        cast(max(value_kusd) filter (where flow = 'exports') as decimal(20, 5)) as exports_kusd,
        cast(max(value_kusd) filter (where flow = 'imports') as decimal(20, 5)) as imports_kusd,
        string_agg(source_ref, '; ' order by flow) as source_ref
    from other_cells
    group by year, partner_key

),

other_rows as (

    select
        other_pivot.*,
        cast(coalesce(other_pivot.exports_kusd, 0) + coalesce(other_pivot.imports_kusd, 0) as decimal(20, 5))
            as turnover_kusd,
        max(other_pivot.exports_kusd) filter (where other_pivot.aggregate_kind = 'total')
            over (partition by other_pivot.year)
            as total_exports,
        max(other_pivot.imports_kusd) filter (where other_pivot.aggregate_kind = 'total')
            over (partition by other_pivot.year)
            as total_imports
    from other_pivot

),

other_final as (

    select
        year,
        partner_name_ru,
        partner_name_en,
        partner_iso3,
        is_aggregate,
        aggregate_kind,
        partner_key,
        turnover_kusd,
        exports_kusd,
        imports_kusd,
        cast(turnover_kusd * 100 / nullif(total_exports + total_imports, 0) as decimal(20, 5)) as turnover_share_pct,
        cast(coalesce(exports_kusd, 0) * 100 / nullif(total_exports, 0) as decimal(20, 5)) as exports_share_pct,
        cast(coalesce(imports_kusd, 0) * 100 / nullif(total_imports, 0) as decimal(20, 5)) as imports_share_pct,
        cast(null as integer) as release,
        cast(null as date) as release_published,
        cast(null as varchar) as sheet,
        cast(null as varchar) as period,
        cast(null as integer) as row_no,
        cast(null as integer) as n_releases,
        source,
        source_ref
    from other_rows

),

final as (

    select * from bureau_rows
    union all by name
    select * from other_final

)

select
    year,
    partner_name_ru,
    partner_name_en,
    partner_iso3,
    is_aggregate,
    aggregate_kind,
    partner_key,
    turnover_kusd,
    exports_kusd,
    imports_kusd,
    turnover_share_pct,
    exports_share_pct,
    imports_share_pct,
    release,
    release_published,
    sheet,
    period,
    row_no,
    n_releases,
    source,
    source_ref
from final
order by year asc, row_no asc nulls last, is_aggregate desc, partner_key asc
