-- Every published trade year has exactly one grand-total row ("Всего"; UN Comtrade's World),
-- so shares and country sums can be checked against it — except the years taken from the
-- processed bureau figures, which print countries only (no total at all).
with

partners as (

    select * from {{ ref('kazakhstan_trade_by_partner') }}

),

totals as (

    select
        year,
        any_value(source) as source,
        count(*) filter (where aggregate_kind = 'total') as n_total_rows
    from partners
    group by year

)

select *
from totals
where n_total_rows > 1
    or (n_total_rows = 0 and source <> 'bureau_processed')
