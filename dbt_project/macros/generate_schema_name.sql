{#
    Use a model's custom schema name as-is (`staging`, `trade`, ...) instead of dbt's
    default `<target_schema>_<custom_schema>`: the published schema names are a contract.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
