{% macro normalize_email(email) %}
    {#- The form in which e-mails are compared: trimmed and lower-cased, so
        that ' Ann@X.com' and 'ann@x.com' are one customer. -#}
    {{ return(adapter.dispatch('normalize_email', 'stedi')(email)) }}
{% endmacro %}

{% macro default__normalize_email(email) -%}
    lower(trim({{ email }}))
{%- endmacro %}
