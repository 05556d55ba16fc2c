{% macro parse_bigint(text) %}
    {#- A landing value (text as delivered) as bigint, or null when it is not
        a whole number (whitespace around it is trimmed). Spark's cast would truncate '1.5' to 1 where Athena's
        try_cast gives null: the pattern makes both give null. -#}
    {{ return(adapter.dispatch('parse_bigint', 'stedi')(text)) }}
{% endmacro %}

{% macro default__parse_bigint(text) -%}
    case
        when regexp_like({{ trim_whitespace(text) }}, '^-?[0-9]{1,18}$')
            then cast({{ trim_whitespace(text) }} as bigint)
    end
{%- endmacro %}


{% macro parse_double(text) %}
    {#- A landing value (text as delivered) as double, or null when it is
        not a number. -#}
    {{ return(adapter.dispatch('parse_double', 'stedi')(text)) }}
{% endmacro %}

{% macro default__parse_double(text) -%}
    case
        when regexp_like({{ trim_whitespace(text) }}, '^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$')
            then cast({{ trim_whitespace(text) }} as double)
    end
{%- endmacro %}
