-- Per reported year: the releases (vintages) that carry it, and the latest one,
-- whose figures the published trade tables use. Only whole-year, all-commodity tables
-- count (monthly or per-chapter tables would otherwise compete with them).
with

trade as (

    select * from {{ ref('int_trade__annual_partners') }}

),

sheets as (

    select distinct
        year,
        release,
        release_published,
        sheet
    from trade

),

ranked as (

    select
        *,
        row_number() over (partition by year order by release desc) as release_recency
    from sheets

),

final as (

    select
        year,
        max(release) filter (where release_recency = 1) as latest_release,
        max(sheet) filter (where release_recency = 1) as latest_sheet,
        max(release_published) filter (where release_recency = 1) as latest_release_published,
        min(release) as first_release,
        cast(count(*) as integer) as n_releases,
        array_to_string(list_sort(list(cast(release as varchar))), ', ') as releases
    from ranked
    group by year

)

select * from final
