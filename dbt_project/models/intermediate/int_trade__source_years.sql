-- Which source each year's published trade comes from: of the sources that have the year,
-- the most preferred (bureau release, then processed bureau figures, then UN Comtrade).
-- A year is chosen whole, so a year's rows, totals and shares come from one source, and a
-- source with a registered gap is never used for a year a better source covers.
with

candidates as (

    select * from {{ ref('int_trade__all_sources') }}

),

source_years as (

    select
        year,
        source,
        min(source_preference) as source_preference,
        count(distinct partner_key) as n_partners
    from candidates
    group by year, source

),

ranked as (

    select
        *,
        row_number() over (partition by year order by source_preference) as rank_in_year,
        string_agg(source, ', ' order by source_preference) over (partition by year) as sources_with_year
    from source_years

),

final as (

    select
        year,
        source as chosen_source,
        n_partners,
        sources_with_year
    from ranked
    where rank_in_year = 1

)

select * from final
