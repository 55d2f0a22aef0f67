{#- Months a bureau table covers, from its printed period: "за январь-март 2021 года" -> 3,
    "за январь 2021 года" -> 1, a whole year ("за январь-декабрь 2019 года", "за 2021 год",
    "2022 год") -> 12. Month names match nominative and genitive ("января-марта") by stem. -#}
{% macro period_months(period) -%}
    case
        when regexp_matches({{ period }}, 'январ[ья]-')
            then list_position(
                ['янв', 'фев', 'мар', 'апр', 'ма', 'июн', 'июл', 'авг', 'сен', 'окт', 'ноя', 'дек'],
                case
                    when regexp_extract({{ period }}, 'январ[ья]-(\S+)', 1) like 'мар%' then 'мар'
                    when regexp_extract({{ period }}, 'январ[ья]-(\S+)', 1) like 'ма%' then 'ма'
                    else left(regexp_extract({{ period }}, 'январ[ья]-(\S+)', 1), 3)
                end
            )
        when regexp_matches({{ period }}, 'январ[ья] \d{4}') then 1
        else 12
    end
{%- endmacro %}
