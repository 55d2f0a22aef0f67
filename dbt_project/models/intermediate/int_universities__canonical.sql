-- One row per university (canonical English name) printed anywhere in Tables 5–7,
-- with all the spellings the paper uses for it.
with

spellings as (

    select * from {{ ref('int_universities__spellings') }}

),

final as (

    select
        university,
        any_value(city) as city,
        any_value(country_iso3) as country_iso3,
        array_to_string(list_sort(list(university_name_printed)), ' | ') as printed_spellings,
        cast(count(*) as integer) as n_printed_spellings,
        bool_or(is_variant_spelling) as has_variant_spelling,
        array_to_string(
            list_sort(list_distinct(flatten(list(string_split(printed_in_tables, ', '))))), ', '
        ) as printed_in_tables,
        nullif(array_to_string(list_sort(list_distinct(list(spelling_note))), ' '), '') as spelling_notes
    from spellings
    where university is not null
    group by university

)

select * from final
