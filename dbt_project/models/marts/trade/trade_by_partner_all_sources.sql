-- Every candidate value of every trade source: year × partner × flow × source, with where it
-- is printed. The published fact (kazakhstan_trade_by_partner) takes one source per year from
-- these; source_reconciliation compares them cell by cell.
with

candidates as (

    select * from {{ ref('int_trade__all_sources') }}

),

source_years as (

    select * from {{ ref('int_trade__source_years') }}

),

final as (

    select
        candidates.year,
        candidates.partner_iso3,
        candidates.flow,
        candidates.source,
        candidates.value_kusd,
        candidates.source_ref,
        candidates.partner_key,
        candidates.partner_name_en,
        candidates.is_aggregate,
        candidates.aggregate_kind,
        candidates.source_label,
        candidates.source_preference,
        candidates.source = source_years.chosen_source as is_published
    from candidates
    inner join source_years
        on candidates.year = source_years.year
    order by candidates.year, candidates.partner_key, candidates.flow, candidates.source_preference

)

select * from final
