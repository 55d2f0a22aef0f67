{#- One unit in the last printed decimal place of a value in thousand USD (1, 0.1, … 0.00001),
    inferred from the value itself: 2975893.4 -> 0.1, 3080203.73363 -> 0.00001. An empty cell
    (NULL: no trade, or below the printed precision) counts as the bureau's «0,0»: 0.1. Values of
    UN Comtrade are converted from US dollars, so nothing finer than one dollar (0.001) is a unit. -#}
{% macro printed_unit(v, floor='0.00001') -%}
    greatest(
        case
            when {{ v }} is null then 0.1
            when {{ v }} = round({{ v }}, 0) then 1
            when {{ v }} = round({{ v }}, 1) then 0.1
            when {{ v }} = round({{ v }}, 2) then 0.01
            when {{ v }} = round({{ v }}, 3) then 0.001
            when {{ v }} = round({{ v }}, 4) then 0.0001
            else 0.00001
        end,
        {{ floor }}
    )
{%- endmacro %}
