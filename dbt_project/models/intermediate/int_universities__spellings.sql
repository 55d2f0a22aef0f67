-- Every university name as printed in Tables 5–7 (Total rows excluded), with the
-- canonical English name from the seed `university_names`. Grain: printed spelling.
with

departments as (

    select * from {{ ref('stg_paper__turkic_studies_departments') }}

),

h_exchange as (

    select * from {{ ref('stg_paper__h_university_exchange') }}

),

k_exchange as (

    select * from {{ ref('stg_paper__k_university_exchange') }}

),

university_names as (

    select * from {{ ref('university_names') }}

),

printed as (

    select
        university_name_printed,
        'Table 5' as printed_in_table
    from departments

    union all

    select
        university_name_printed,
        'Table 6' as printed_in_table
    from h_exchange
    where not is_total_row

    union all

    select
        university_name_printed,
        'Table 7' as printed_in_table
    from k_exchange
    where not is_total_row

),

spellings as (

    select
        university_name_printed,
        array_to_string(list_sort(list_distinct(list(printed_in_table))), ', ') as printed_in_tables
    from printed
    group by university_name_printed

),

final as (

    select
        spellings.university_name_printed,
        university_names.university,
        university_names.city,
        university_names.country_iso3,
        spellings.university_name_printed <> university_names.university as is_variant_spelling,
        university_names.note as spelling_note,
        spellings.printed_in_tables
    from spellings
    left join university_names
        on spellings.university_name_printed = university_names.name_printed

)

select * from final
