{% macro consent_date_enforced() %}
    {#- The enforce_consent_date var as a boolean, whether it arrives as a
        YAML boolean or as a string from the command line. -#}
    {%- set value = var('enforce_consent_date', true) -%}
    {%- if value is string -%}
        {{ return(value | lower in ('true', '1', 'yes', 'y', 'on')) }}
    {%- endif -%}
    {{ return(value == true) }}
{% endmacro %}
