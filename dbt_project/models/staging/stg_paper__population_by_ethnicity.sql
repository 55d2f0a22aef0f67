-- Table 1 in long form: one row per printed cell (year × ethnic group).
{%- set ethnic_groups = [
    'Kazakhs', 'Russians', 'Uzbeks', 'Ukrainians', 'Uyghurs',
    'Tatars', 'Germans', 'Koreans', 'Turks', 'Azerbaijanis',
] %}

with

source as (

    select * from {{ source('raw', 'paper_table1_population_by_ethnicity') }}

),

unpivoted as (

    {% for group in ethnic_groups -%}
    select
        cast(year as integer) as year,
        '{{ group }}' as ethnic_group,
        {{ loop.index }} as column_order,
        {{ group | lower }} as population,
        {{ group | lower }}_printed as printed_value,
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
        year,
        ethnic_group,
        column_order,
        population,
        printed_value,
        printed_value = '-' as is_printed_dash,
        printf('Table 1, row %d, column "%s"', year, ethnic_group) as source_ref,
        source_file,
        source_line
    from unpivoted
    -- a blank printed cell is absent, not zero
    where printed_value <> ''

)

select * from final
