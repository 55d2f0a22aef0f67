{#
    Grain test: no two rows share the same values of `combination_of_columns`.
    Returns one row per duplicated key (with the number of rows carrying it).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with grouped as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

)

select *
from grouped
where n_rows > 1

{% endtest %}
