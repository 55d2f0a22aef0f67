-- Table 2 with the Korean share recomputed from the printed counts, and Table 1's
-- Korean count alongside for comparison.
with

diaspora as (

    select * from {{ ref('stg_paper__korean_diaspora') }}

),

table1_koreans as (

    select
        year,
        population as korean_population_table1
    from {{ ref('stg_paper__population_by_ethnicity') }}
    where ethnic_group = 'Koreans'

),

computed as (

    select
        diaspora.*,
        table1_koreans.korean_population_table1,
        -- exact decimal ratio, rounded once
        cast(diaspora.korean_population as decimal(38, 12)) * 100 / diaspora.total_population as korean_pct_exact
    from diaspora
    left join table1_koreans
        on diaspora.year = table1_koreans.year

),

final as (

    select
        year,
        total_population,
        korean_population,
        korean_pct_stated,
        cast(round(korean_pct_exact, 4) as decimal(9, 4)) as korean_pct_computed,
        cast(round(korean_pct_exact, 2) as decimal(6, 2)) as korean_pct_computed_rounded,
        cast(round(korean_pct_exact, 2) as decimal(6, 2)) = korean_pct_stated as pct_matches_printed,
        korean_population_table1,
        korean_population_table1 = korean_population as korean_population_matches_table1,
        korean_pct_printed,
        source_ref
    from computed
    order by year

)

select * from final
