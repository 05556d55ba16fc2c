{#- The steps of the landing rulebook that the engines spell differently:
    parsing a line as one JSON object, and reading each key's value as text.
    landing_record_ctes (macros/landing/landing_records.sql) puts them
    together. -#}


{% macro parse_landing_object(json_text, json_keys) %}
    {#- The JSON text parsed once, in a form from which landing_object_text
        reads each key. -#}
    {{- adapter.dispatch('parse_landing_object', 'stedi')(json_text, json_keys) -}}
{%- endmacro %}

{% macro spark__parse_landing_object(json_text, json_keys) -%}
    {#- Wrapped as '[<text>,{}]', the text parses to an array of exactly two
        objects only when it is one JSON object and nothing else: from_json
        alone ignores what follows the first value. Keys are matched
        exactly; a key given twice keeps its last value. The struct is cast
        to positional field names, because Spark's analyzer cannot tell
        `timestamp` from `timeStamp`. -#}
    {%- set exact = [] -%}
    {%- set positional = [] -%}
    {%- for key in json_keys -%}
        {%- do exact.append('`' ~ key ~ '`: string') -%}
        {%- do positional.append('json_value_' ~ loop.index ~ ': string') -%}
    {%- endfor -%}
    cast(from_json(concat('[', {{ json_text }}, ',{}]'), 'array<struct<{{ exact | join(", ") }}>>', {{ spark_strict_json_options() }}) as array<struct<{{ positional | join(', ') }}>>)
{%- endmacro %}


{% macro spark_strict_json_options() -%}
    {#- Spark's JSON reader accepts single quotes and NaN by default; JSON
        and Trino do not -#}
    map('allowSingleQuotes', 'false', 'allowNonNumericNumbers', 'false')
{%- endmacro %}


{% macro athena__parse_landing_object(json_text, json_keys) -%}
    {#- null unless the text is one JSON object (json_parse rejects anything
        after the value); a key given twice keeps its last value -#}
    try(cast(try(json_parse({{ json_text }})) as map(varchar, json)))
{%- endmacro %}


{% macro landing_object_is_valid(landing_object) %}
    {{- adapter.dispatch('landing_object_is_valid', 'stedi')(landing_object) -}}
{%- endmacro %}

{% macro spark__landing_object_is_valid(landing_object) -%}
    coalesce(size({{ landing_object }}) = 2 and {{ landing_object }}[0] is not null, false)
{%- endmacro %}

{% macro athena__landing_object_is_valid(landing_object) -%}
    {{ landing_object }} is not null
{%- endmacro %}


{% macro landing_object_text(landing_object, key, position) %}
    {#- The value of key as text: a string's characters, a number or a
        boolean as JSON writes it, an object or array as JSON text; null
        when absent or null. position: the key's place in json_keys. -#}
    {{- adapter.dispatch('landing_object_text', 'stedi')(landing_object, key, position) -}}
{%- endmacro %}

{% macro spark__landing_object_text(landing_object, key, position) -%}
    {{ landing_object }}[0].json_value_{{ position }}
{%- endmacro %}

{% macro athena__landing_object_text(landing_object, key, position) -%}
    {%- set value = "element_at(" ~ landing_object ~ ", '" ~ key | replace("'", "''") ~ "')" -%}
    case
        when is_json_scalar({{ value }}) then json_extract_scalar({{ value }}, '$')
        else json_format({{ value }})
    end
{%- endmacro %}


{% macro is_json_container_text(text) %}
    {#- Whether a value's text is a JSON object or array: where a scalar is
        expected, such a value is invalid_value. Spark gives an object and
        a string holding the same JSON the same text, so both count. -#}
    {{- adapter.dispatch('is_json_container_text', 'stedi')(text) -}}
{%- endmacro %}

{% macro spark__is_json_container_text(text) -%}
    coalesce(substr({{ text }}, 1, 1) in ('{', '[') and size(from_json(concat('[', {{ text }}, ',0]'), 'array<string>', {{ spark_strict_json_options() }})) = 2, false)
{%- endmacro %}

{% macro athena__is_json_container_text(text) -%}
    coalesce(substr({{ text }}, 1, 1) in ('{', '[') and not is_json_scalar(try(json_parse({{ text }}))), false)
{%- endmacro %}
