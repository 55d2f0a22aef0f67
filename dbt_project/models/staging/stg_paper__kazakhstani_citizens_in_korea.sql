-- Table 3 in long form: one row per printed cell (year × category × sex).
-- A printed "-" is kept as a row with a NULL count; a blank cell yields no row.
{%- set categories = [
    ('arriving', 'arriving_citizens', 'Arriving citizens'),
    ('students', 'international_students', 'International students'),
    ('workers', 'workers_h2', 'Workers (H-2 visa holders)'),
    ('married', 'married_immigrants', 'Married immigrants'),
] %}
{%- set sexes = [
    ('total', 'total', 'Total'),
    ('male', 'male', 'sex M'),
    ('female', 'female', 'sex F'),
] %}

with

source as (

    select * from {{ source('raw', 'paper_table3_kazakhstani_citizens_in_korea') }}

),

unpivoted as (

    {% for raw_group, category, category_label in categories -%}
    {%- set outer_loop = loop -%}
    {%- for raw_sex, sex, sex_label in sexes -%}
    select
        cast(year as integer) as year,
        '{{ category }}' as category,
        '{{ category_label }}' as category_label,
        '{{ sex }}' as sex,
        '{{ sex_label }}' as sex_label,
        {{ raw_group }}_{{ raw_sex }} as count,
        {{ raw_group }}_{{ raw_sex }}_printed as printed_value,
        _source_file as source_file,
        _source_line as source_line
    from source
    {% if not (outer_loop.last and loop.last) %}
    union all

    {% endif -%}
    {%- endfor -%}
    {%- endfor %}
),

final as (

    select
        year,
        category,
        category_label,
        sex,
        count,
        printed_value,
        printed_value = '-' as is_printed_dash,
        printf('Table 3, row %d, column "%s", %s', year, category_label, sex_label) as source_ref,
        source_file,
        source_line
    from unpivoted
    where printed_value <> ''

)

select * from final
