{#- Text the engines trim and spell differently: JSON's whitespace, and the
    byte order mark at the start of a line. -#}


{% macro trim_whitespace(text) -%}
    {#- text without leading and trailing whitespace: space, tab, CR and LF
        (JSON's whitespace), defined once for every engine. The engines' own
        trim() differ: Spark strips spaces only, Trino all of Java's
        whitespace. -#}
    {{- adapter.dispatch('trim_whitespace', 'stedi')(text) -}}
{%- endmacro %}

{% macro spark__trim_whitespace(text) -%}
    {#- Spark's parser turns the escapes into the characters -#}
    btrim({{ text }}, ' \t\r\n')
{%- endmacro %}

{% macro athena__trim_whitespace(text) -%}
    regexp_replace({{ text }}, '^[ \t\r\n]+|[ \t\r\n]+$', '')
{%- endmacro %}


{% macro byte_order_mark() %}
    {#- U+FEFF as an SQL string expression. -#}
    {{- adapter.dispatch('byte_order_mark', 'stedi')() -}}
{%- endmacro %}

{% macro spark__byte_order_mark() -%}
    '\uFEFF'
{%- endmacro %}

{% macro athena__byte_order_mark() -%}
    chr(65279)
{%- endmacro %}


{% macro without_byte_order_mark(line) -%}
    case
        when substr({{ line }}, 1, 1) = {{ byte_order_mark() }} then substr({{ line }}, 2)
        else {{ line }}
    end
{%- endmacro %}


{% macro null_text() %}
    {#- A null of the engines' text type, where a union's first branch must
        type a column it has no value for. -#}
    {{- adapter.dispatch('null_text', 'stedi')() -}}
{%- endmacro %}

{% macro spark__null_text() -%}
    cast(null as string)
{%- endmacro %}

{% macro athena__null_text() -%}
    cast(null as varchar)
{%- endmacro %}
