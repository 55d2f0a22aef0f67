-- Table 7 in long form: one row per printed cell (university row × period),
-- the printed "Total" row kept and flagged. A blank cell yields no row.
{%- set periods = [
    ('ay_2014_2015', '2014-2015 academic year'),
    ('spring_2017', '2017 spring semester'),
    ('fall_2018', '2018 fall semester'),
    ('fall_2019', '2019 fall semester'),
] %}

with

source as (

    select * from {{ source('raw', 'paper_table7_k_university_exchange') }}

),

unpivoted as (

    {% for raw_column, period in periods -%}
    select
        cast(row_no as integer) as row_no,
        university_name as university_name_printed,
        '{{ period }}' as period,
        {{ loop.index }} as period_order,
        {{ raw_column }} as students,
        {{ raw_column }}_printed as printed_value,
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
        row_no,
        university_name_printed,
        period,
        period_order,
        students,
        printed_value,
        printed_value = '-' as is_printed_dash,
        lower(trim(university_name_printed)) = 'total' as is_total_row,
        printf('Table 7, row "%s", column "%s"', university_name_printed, period) as source_ref,
        source_file,
        source_line
    from unpivoted
    where printed_value <> ''

)

select * from final
