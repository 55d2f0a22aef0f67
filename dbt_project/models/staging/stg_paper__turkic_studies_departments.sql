-- Table 5: one row per printed department row, the printed text kept next to parsed values.
with

source as (

    select * from {{ source('raw', 'paper_table5_turkic_studies_departments') }}

),

renamed as (

    select
        cast(row_no as integer) as row_no,
        establishment_year as establishment_year_printed,
        department_name as department_name_printed,
        university_name as university_name_printed,
        research_area,
        student_number,
        student_number_printed,
        graduate_number as graduate_number_printed,
        _source_file as source_file,
        _source_line as source_line
    from source

),

parsed as (

    select
        *,
        -- "1973 → 2008 ~": founded 1973, renamed 2008, "~" = to the present
        regexp_extract_all(establishment_year_printed, '\d{4}') as printed_years,
        -- "Dept. Turkish Studies → Dept. Turkish-Azerbaijani Studies"
        string_split(department_name_printed, '→') as department_names,
        -- "850", "Approx. 100", or a note such as "Incorporated into International studies department"
        regexp_extract(graduate_number_printed, '^\s*(approx\.?\s*)?([0-9][0-9,]*)\s*$', 2, 'i') as graduate_digits,
        regexp_matches(graduate_number_printed, '^\s*approx', 'i') as graduate_is_approx
    from renamed

),

final as (

    select
        row_no,
        establishment_year_printed,
        cast(printed_years[1] as integer) as established_year,
        cast(printed_years[2] as integer) as renamed_year,
        department_name_printed,
        trim(department_names[1]) as department_name_original,
        trim(department_names[-1]) as department_name_current,
        university_name_printed,
        research_area,
        student_number,
        student_number_printed,
        student_number_printed = '-' as student_number_is_printed_dash,
        graduate_number_printed,
        cast(nullif(replace(graduate_digits, ',', ''), '') as integer) as graduate_number,
        coalesce(graduate_is_approx and graduate_digits <> '', false) as graduate_number_is_approx,
        case
            when graduate_number_printed is not null and coalesce(graduate_digits, '') = ''
                then graduate_number_printed
        end as graduate_number_note,
        printf(
            'Table 5, row %d ("%s", %s)', row_no, department_name_printed, university_name_printed
        ) as source_ref,
        source_file,
        source_line
    from parsed

)

select * from final
