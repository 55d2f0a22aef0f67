-- One row per year from the first to the last year any domain covers, with the headline
-- figures of every domain side by side (NULL where a domain does not cover the year or
-- the paper prints a dash).
with

diaspora as (

    select * from {{ ref('korean_diaspora') }}

),

citizens as (

    select * from {{ ref('kazakhstani_citizens_in_korea') }}
    where sex = 'total'

),

f4_arrivals as (

    select * from {{ ref('ethnic_korean_arrivals_f4') }}
    where sex = 'total'

),

h_totals as (

    select * from {{ ref('h_university_exchange_totals') }}

),

korea_trade as (

    select * from {{ ref('kazakhstan_korea_trade') }}

),

trade_totals as (

    select
        year,
        turnover_kusd as kazakhstan_turnover_kusd
    from {{ ref('kazakhstan_trade_by_partner') }}
    where aggregate_kind = 'total'

),

domain_years as (

    select year from diaspora
    union all
    select year from citizens
    union all
    select year from f4_arrivals
    union all
    select year from h_totals
    union all
    select year from korea_trade

),

years as (

    select cast(range as integer) as year
    from
        range(
            (select min(year) from domain_years),
            (select max(year) from domain_years) + 1
        )

),

citizens_wide as (

    select
        year,
        max(count) filter (where category = 'arriving_citizens') as kazakhstani_arrivals_in_korea,
        max(count) filter (where category = 'international_students') as kazakhstani_students_in_korea,
        max(count) filter (where category = 'workers_h2') as kazakhstani_h2_workers_in_korea,
        max(count) filter (where category = 'married_immigrants') as kazakhstani_married_immigrants_in_korea
    from citizens
    group by year

),

h_wide as (

    select
        year,
        max(students_stated) filter (where direction = 'inbound') as h_university_inbound_stated,
        max(students_stated) filter (where direction = 'outbound') as h_university_outbound_stated
    from h_totals
    group by year

),

final as (

    select
        years.year,
        diaspora.total_population,
        diaspora.korean_population,
        diaspora.korean_pct_stated,
        citizens_wide.kazakhstani_arrivals_in_korea,
        citizens_wide.kazakhstani_students_in_korea,
        citizens_wide.kazakhstani_h2_workers_in_korea,
        citizens_wide.kazakhstani_married_immigrants_in_korea,
        f4_arrivals.count as f4_arrivals,
        h_wide.h_university_inbound_stated,
        h_wide.h_university_outbound_stated,
        korea_trade.exports_to_korea_kusd,
        korea_trade.imports_from_korea_kusd,
        korea_trade.turnover_kusd as korea_turnover_kusd,
        korea_trade.balance_kusd as korea_balance_kusd,
        korea_trade.korea_rank_by_turnover,
        korea_trade.source as korea_trade_source,
        korea_trade.korea_turnover_share_pct,
        trade_totals.kazakhstan_turnover_kusd,
        -- where the year's figures are printed
        nullif(concat_ws(
            '; ',
            case when diaspora.year is not null then printf('Table 2, row %d', years.year) end,
            case when citizens_wide.year is not null then printf('Table 3, row %d', years.year) end,
            case when f4_arrivals.year is not null then printf('Table 4, row %d', years.year) end,
            case when h_wide.year is not null then printf('Table 6, Total rows, column "%d"', years.year) end,
            korea_trade.source_ref
        ), '') as source_ref
    from years
    left join diaspora
        on years.year = diaspora.year
    left join citizens_wide
        on years.year = citizens_wide.year
    left join f4_arrivals
        on years.year = f4_arrivals.year
    left join h_wide
        on years.year = h_wide.year
    left join korea_trade
        on years.year = korea_trade.year
    left join trade_totals
        on years.year = trade_totals.year
    order by years.year

)

select * from final
