-- yearly_overview has one row for every year from the first to the last year any domain
-- covers, without gaps.
with

overview as (

    select * from {{ ref('yearly_overview') }}

),

bounds as (

    select
        min(year) as first_year,
        max(year) as last_year,
        count(*) as n_rows
    from overview

)

select *
from bounds
where n_rows <> last_year - first_year + 1
