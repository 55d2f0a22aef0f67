-- Table 7: one row per printed university cell (university × period), universities under
-- their canonical names; the printed Total row is not mixed in (see k_university_exchange_totals).
with

exchange as (

    select * from {{ ref('stg_paper__k_university_exchange') }}
    where not is_total_row

),

spellings as (

    select * from {{ ref('int_universities__spellings') }}

),

final as (

    select
        spellings.university,
        exchange.period,
        exchange.period_order,
        exchange.students,
        exchange.is_printed_dash,
        exchange.printed_value,
        exchange.university_name_printed,
        exchange.row_no,
        exchange.source_ref
    from exchange
    left join spellings
        on exchange.university_name_printed = spellings.university_name_printed
    order by exchange.row_no, exchange.period_order

)

select * from final
