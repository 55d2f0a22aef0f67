-- Table 4, long form: one row per printed cell. A printed "-" is a row with a NULL count;
-- a blank cell is absent.
with

arrivals as (

    select * from {{ ref('stg_paper__ethnic_korean_arrivals_f4') }}

),

final as (

    select
        year,
        sex,
        count,
        is_printed_dash,
        printed_value,
        source_ref
    from arrivals
    order by year, list_position(['total', 'male', 'female'], sex)

)

select * from final
