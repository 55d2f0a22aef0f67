-- Every published trade year has exactly one grand-total row ("Всего"), so shares and
-- country sums can be checked against it.
with

partners as (

    select * from {{ ref('kazakhstan_trade_by_partner') }}

),

totals as (

    select
        year,
        count(*) filter (where aggregate_kind = 'total') as n_total_rows
    from partners
    group by year

)

select *
from totals
where n_total_rows <> 1
