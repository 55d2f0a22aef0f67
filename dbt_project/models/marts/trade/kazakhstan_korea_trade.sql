-- Kazakhstan's trade with the Republic of Korea per year, every year any source covers,
-- from the source the published trade table uses for the year (source), with Korea's rank by
-- turnover among that year's partner countries (aggregates and unallocated rows excluded).
with

partners as (

    select * from {{ ref('kazakhstan_trade_by_partner') }}

),

countries as (

    select
        *,
        rank() over (partition by year order by turnover_kusd desc nulls last) as rank_by_turnover,
        count(*) over (partition by year) as n_partner_countries
    from partners
    where not is_aggregate
        and partner_iso3 is not null

),

korea as (

    select * from countries
    where partner_iso3 = 'KOR'

),

final as (

    select
        year,
        exports_kusd as exports_to_korea_kusd,
        imports_kusd as imports_from_korea_kusd,
        turnover_kusd,
        cast(exports_kusd - imports_kusd as decimal(20, 5)) as balance_kusd,
        cast(rank_by_turnover as integer) as korea_rank_by_turnover,
        cast(n_partner_countries as integer) as n_partner_countries,
        turnover_share_pct as korea_turnover_share_pct,
        release,
        source,
        source_ref
    from korea
    order by year

)

select * from final
