-- Table 6: one row per printed university cell (direction × university × year),
-- universities under their canonical names; the printed Total rows are not mixed in
-- (see h_university_exchange_totals).
with

exchange as (

    select * from {{ ref('stg_paper__h_university_exchange') }}
    where not is_total_row

),

spellings as (

    select * from {{ ref('int_universities__spellings') }}

),

final as (

    select
        exchange.direction,
        spellings.university,
        exchange.year,
        exchange.students,
        exchange.is_printed_dash,
        exchange.printed_value,
        exchange.university_name_printed,
        exchange.row_no,
        exchange.source_ref
    from exchange
    left join spellings
        on exchange.university_name_printed = spellings.university_name_printed
    order by exchange.direction, exchange.row_no, exchange.year

)

select * from final
