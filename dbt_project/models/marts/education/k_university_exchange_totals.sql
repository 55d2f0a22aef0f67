-- Table 7: the printed Total row next to the sum of the university rows, per period.
-- Disagreements are findings about the paper, reported by the quality gate.
with

exchange as (

    select * from {{ ref('stg_paper__k_university_exchange') }}

),

stated as (

    select
        period,
        period_order,
        students as students_stated,
        printed_value as students_stated_printed,
        source_ref
    from exchange
    where is_total_row

),

summed as (

    select
        period,
        any_value(period_order) as period_order,
        sum(students) as students_summed,
        count(students) as n_universities_reported
    from exchange
    where not is_total_row
    group by period

),

grid as (

    select
        period,
        period_order
    from stated
    union
    select
        period,
        period_order
    from summed

),

final as (

    select
        grid.period,
        grid.period_order,
        stated.students_stated,
        cast(coalesce(summed.students_summed, 0) as bigint) as students_summed,
        stated.students_stated - cast(coalesce(summed.students_summed, 0) as bigint) as difference,
        stated.students_stated = coalesce(summed.students_summed, 0) as totals_match,
        cast(coalesce(summed.n_universities_reported, 0) as integer) as n_universities_reported,
        stated.students_stated_printed,
        coalesce(
            stated.source_ref, printf('Table 7, column "%s" (no Total printed)', grid.period)
        ) as source_ref
    from grid
    left join stated
        on grid.period = stated.period
    left join summed
        on grid.period = summed.period
    order by grid.period_order

)

select * from final
