{#
    Row-level assertion: every row satisfies `expression` (a SQL boolean expression).
    When attached to a column, the expression is appended to the column name, e.g.
    `column: share_pct`, `expression: "between 0 and 100"`.
    Rows where the expression is NULL (e.g. a NULL operand) pass, as in dbt_utils.
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({% if column_name is not none %}{{ column_name }} {% endif %}{{ expression }})

{% endtest %}
