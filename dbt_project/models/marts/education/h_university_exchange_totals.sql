-- Table 6: the printed Total row of each block next to the sum of the university rows
-- above it, per direction and year. Disagreements are findings about the paper, reported
-- by the quality gate, not build errors.
with

exchange as (

    select * from {{ ref('stg_paper__h_university_exchange') }}

),

stated as (

    select
        direction,
        year,
        students as students_stated,
        printed_value as students_stated_printed,
        source_ref
    from exchange
    where is_total_row

),

summed as (

    select
        direction,
        year,
        sum(students) as students_summed,
        count(students) as n_universities_reported
    from exchange
    where not is_total_row
    group by direction, year

),

grid as (

    select
        direction,
        year
    from stated
    union
    select
        direction,
        year
    from summed

),

final as (

    select
        grid.direction,
        grid.year,
        stated.students_stated,
        cast(coalesce(summed.students_summed, 0) as bigint) as students_summed,
        stated.students_stated - cast(coalesce(summed.students_summed, 0) as bigint) as difference,
        stated.students_stated = coalesce(summed.students_summed, 0) as totals_match,
        cast(coalesce(summed.n_universities_reported, 0) as integer) as n_universities_reported,
        stated.students_stated_printed,
        coalesce(
            stated.source_ref,
            printf(
                'Table 6 (%s), column "%d" (no Total printed)',
                upper(grid.direction[1]) || grid.direction[2:],
                grid.year
            )
        ) as source_ref
    from grid
    left join stated
        on grid.direction = stated.direction
        and grid.year = stated.year
    left join summed
        on grid.direction = summed.direction
        and grid.year = summed.year
    order by grid.direction, grid.year

)

select * from final
