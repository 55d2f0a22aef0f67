-- Table 5: one row per department as printed, with the printed text parsed into
-- years, names and numbers, and the university under its canonical name.
with

departments as (

    select * from {{ ref('stg_paper__turkic_studies_departments') }}

),

spellings as (

    select * from {{ ref('int_universities__spellings') }}

),

final as (

    select
        departments.row_no,
        departments.department_name_printed as department_name,
        departments.department_name_original,
        departments.department_name_current,
        spellings.university,
        departments.university_name_printed,
        departments.establishment_year_printed,
        departments.established_year,
        departments.renamed_year,
        departments.research_area,
        departments.student_number,
        departments.student_number_printed,
        departments.student_number_is_printed_dash,
        departments.graduate_number,
        departments.graduate_number_printed,
        departments.graduate_number_is_approx,
        departments.graduate_number_note,
        departments.source_ref
    from departments
    left join spellings
        on departments.university_name_printed = spellings.university_name_printed
    order by departments.row_no

)

select * from final
