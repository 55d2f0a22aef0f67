{#
    The model has at least one row (catches a join or filter that silently drops everything).
#}
{% test not_empty(model) %}

select 'no rows' as failure
where not exists (select 1 from {{ model }})

{% endtest %}
