-- The Republic of Korea is printed as a partner in every year the bureau's tables cover,
-- so kazakhstan_korea_trade has a row for each of them.
with

trade_years as (

    select distinct year
    from {{ ref('kazakhstan_trade_by_partner') }}

),

korea as (

    select year
    from {{ ref('kazakhstan_korea_trade') }}

)

select trade_years.year
from trade_years
left join korea
    on trade_years.year = korea.year
where korea.year is null
