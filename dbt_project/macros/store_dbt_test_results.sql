{#
    on-run-end of `dbt build`: every data test and unit test of the run, with its outcome, into
    quality.dbt_test_results of the build file, so that the build's status (pipelines/audit/status.py)
    counts dbt tests from the file itself, like the Great Expectations rules and the claims.
#}
{% macro _sql_text(value) -%}
    {%- if value is none -%} null {%- else -%} '{{ (value | string) | replace("'", "''") }}' {%- endif -%}
{%- endmacro %}

{% macro store_dbt_test_results(results) %}
  {% if execute and flags.WHICH in ('build', 'test') %}
    {% set rows = [] %}
    {% for r in results if r.node.resource_type in ('test', 'unit_test') %}
      {% set parents = r.node.depends_on.nodes if r.node.depends_on else [] %}
      {% if r.node.resource_type == 'test' %}
        {% set model = r.node.attached_node or (parents | first) %}
      {% else %}
        {% set model = r.node.tested_node_unique_id or (parents | last) %}
      {% endif %}
      {% do rows.append(
          "(" ~ _sql_text(r.node.unique_id) ~ ", " ~ _sql_text(r.node.name) ~ ", "
          ~ _sql_text(r.node.resource_type) ~ ", " ~ _sql_text(model) ~ ", " ~ _sql_text(r.status) ~ ", "
          ~ _sql_text(r.node.config.severity if r.node.resource_type == 'test' else 'error') ~ ", "
          ~ (r.failures if r.failures is not none else 'null') ~ ", " ~ _sql_text(r.message) ~ ")"
      ) %}
    {% endfor %}
    create schema if not exists quality;
    create or replace table quality.dbt_test_results (
        test_id varchar not null, test_name varchar not null, kind varchar not null, model varchar,
        status varchar not null, severity varchar, failures bigint, message varchar
    );
    {% if rows %}
    insert into quality.dbt_test_results values {{ rows | join(",\n") }};
    {% endif %}
  {% endif %}
{% endmacro %}
