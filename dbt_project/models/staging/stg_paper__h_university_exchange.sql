-- Table 6 in long form: one row per printed cell (direction × university row × year),
-- the printed "Total" rows kept and flagged. A blank cell yields no row.
{%- set years = [2016, 2017, 2018, 2019, 2020] %}

with

source as (

    select * from {{ source('raw', 'paper_table6_h_university_exchange') }}

),

unpivoted as (

    {% for year in years -%}
    select
        direction as direction_printed,
        cast(row_no as integer) as row_no,
        university_name as university_name_printed,
        {{ year }} as year,
        y{{ year }} as students,
        y{{ year }}_printed as printed_value,
        _source_file as source_file,
        _source_line as source_line
    from source
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- endfor %}
),

final as (

    select
        lower(direction_printed) as direction,
        row_no,
        university_name_printed,
        year,
        students,
        printed_value,
        printed_value = '-' as is_printed_dash,
        lower(trim(university_name_printed)) = 'total' as is_total_row,
        printf(
            'Table 6 (%s), row "%s", column "%d"', direction_printed, university_name_printed, year
        ) as source_ref,
        source_file,
        source_line
    from unpivoted
    where printed_value <> ''

)

select * from final
