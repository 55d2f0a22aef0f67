-- The published trade table holds, for each year, exactly one release: the latest release
-- carrying that year in the raw data (re-derived here independently of the models).
with

raw_releases as (

    select
        year,
        max(release) as expected_release
    from {{ ref('stg_bureau__foreign_trade_by_partner') }}
    where period_months = 12 and hs_chapter = 0
    group by year

),

published as (

    select
        year,
        min(release) as min_release,
        max(release) as max_release
    from {{ ref('kazakhstan_trade_by_partner') }}
    group by year

)

select
    raw_releases.year,
    raw_releases.expected_release,
    published.min_release,
    published.max_release
from raw_releases
left join published
    on raw_releases.year = published.year
where published.year is null
    or published.min_release <> raw_releases.expected_release
    or published.max_release <> raw_releases.expected_release
