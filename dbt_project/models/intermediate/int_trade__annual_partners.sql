-- The rows of the whole-year, all-commodity tables (every table of the bureau's annual
-- releases): the grain on which releases are compared and the published trade tables are
-- built. Part-year (period_months < 12) and per-chapter (hs_chapter > 0) tables stay in
-- int_trade__partners_mapped only.
with

mapped as (

    select * from {{ ref('int_trade__partners_mapped') }}

),

final as (

    select *
    from mapped
    where period_months = 12
        and hs_chapter = 0

)

select * from final
