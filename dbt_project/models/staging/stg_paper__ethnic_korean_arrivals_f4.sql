-- Table 4 in long form: one row per printed cell (year × sex).
-- A printed "-" is kept as a row with a NULL count; a blank cell yields no row.
{%- set sexes = [
    ('total', 'column "Total"'),
    ('male', 'column "Sex", sex M'),
    ('female', 'column "Sex", sex F'),
] %}

with

source as (

    select * from {{ source('raw', 'paper_table4_ethnic_korean_arrivals_f4') }}

),

unpivoted as (

    {% for sex, cell_label in sexes -%}
    select
        cast(year as integer) as year,
        '{{ sex }}' as sex,
        '{{ cell_label }}' as cell_label,
        {{ sex }} as count,
        {{ sex }}_printed as printed_value,
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
        sex,
        count,
        printed_value,
        printed_value = '-' as is_printed_dash,
        printf('Table 4, row %d, %s', year, cell_label) as source_ref,
        source_file,
        source_line
    from unpivoted
    where printed_value <> ''

)

select * from final
