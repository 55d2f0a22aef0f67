-- Table 3, long form: one row per printed cell. A printed "-" is a row with a NULL count;
-- a blank cell is absent.
with

citizens as (

    select * from {{ ref('stg_paper__kazakhstani_citizens_in_korea') }}

),

final as (

    select
        year,
        category,
        sex,
        count,
        is_printed_dash,
        printed_value,
        category_label,
        source_ref
    from citizens
    order by
        year,
        list_position(['arriving_citizens', 'international_students', 'workers_h2', 'married_immigrants'], category),
        list_position(['total', 'male', 'female'], sex)

)

select * from final
