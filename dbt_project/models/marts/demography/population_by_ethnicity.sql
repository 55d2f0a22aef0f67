-- Table 1 in long form with each group's share of Table 2's total population and its
-- rank among the ten printed groups in that year.
with

population as (

    select * from {{ ref('stg_paper__population_by_ethnicity') }}

),

diaspora as (

    select * from {{ ref('stg_paper__korean_diaspora') }}

),

joined as (

    select
        population.year,
        population.ethnic_group,
        population.population,
        diaspora.total_population,
        population.printed_value,
        population.source_ref,
        diaspora.source_ref as total_population_source_ref
    from population
    left join diaspora
        on population.year = diaspora.year

),

final as (

    select
        year,
        ethnic_group,
        population,
        cast(round(population * 100.0 / total_population, 4) as decimal(9, 4)) as share_of_total_pct,
        cast(rank() over (partition by year order by population desc) as integer) as rank_in_year,
        total_population,
        printed_value,
        source_ref,
        total_population_source_ref
    from joined
    order by year, rank_in_year

)

select * from final
