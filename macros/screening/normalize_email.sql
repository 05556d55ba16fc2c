{% macro normalize_email(email) %}
    {#- The form in which e-mails are compared: whitespace (space, tab, CR,
        LF) trimmed and the ASCII letters A-Z lower-cased, so that
        ' Ann@X.com' and 'ann@x.com' are one customer. Other characters are
        kept as delivered: the engines' lower() disagree on non-ASCII
        letters (Spark lowers a final capital sigma to ς, Trino to σ), and
        scripts/erasure_request.py computes the same form in Python. -#}
    {{- return(adapter.dispatch('normalize_email', 'stedi')(email)) -}}
{%- endmacro %}

{% macro default__normalize_email(email) -%}
    translate({{ trim_whitespace(email) }}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
{%- endmacro %}
