{#- The landing rulebook: how a delivered line becomes a record, the same on
    every engine (README, "The landing rulebook"). The landing tables hold
    the lines as text; landing_record_ctes turns them into one row per
    record with the declared keys' values as text. Each step that engines
    do differently is one dispatched macro below. -#}


{% macro landing_record_ctes(source_name, files=none, prefix='') %}
    {#- CTEs that read the landing source source_name line by line and end
        in landing_records: one row per record (blank lines are none) with
        landing_line (the line as delivered), line_as_delivered (the same,
        only where the values cannot show it), landing_file,
        landing_file_modified_ms, is_malformed, has_non_scalar_value and
        one text column per declared key. files: only these landing files
        (an incremental run's new files, as new_landing_files returns them).
        prefix: put before every CTE name,
        so that one query can hold the CTEs of several sources. -#}
    {%- set columns = landing_keys(source_name) -%}
    {%- set json_keys = [] -%}
    {%- for column in columns -%}
        {%- for key in column['keys'] if key not in json_keys -%}
            {%- do json_keys.append(key) -%}
        {%- endfor -%}
    {%- endfor -%}
{{ prefix }}landing_lines as (
    -- the file columns read the engine's file metadata, not a table
    -- noqa: disable=RF03
    select
        line as landing_line,
        {{ landing_file_path() }} as landing_file,
        {{ landing_file_modified_ms() }} as landing_file_modified_ms,
        -- most lines are one bare object: they skip the trimming (this
        -- LIKE is a prefix and a suffix test on Spark, no scan of the line)
        case
            when line like '{{ "{%}" }}' then line
            else {{ trim_whitespace(without_byte_order_mark('line')) }}
        end as trimmed_line
    from {{ source('landing', source_name) }}
    where
        {{ is_landing_data_file(landing_file_path()) }}
        {%- if files is not none %}
        and {{ is_new_landing_file(files) }}
        {%- endif %}
    -- noqa: enable=RF03
),

{{ prefix }}landing_texts as (
    -- a blank line is not a record; one trailing comma is tolerated
    select
        landing_line,
        landing_file,
        landing_file_modified_ms,
        case
            when trimmed_line like '%,'
                then {{ trim_whitespace('substr(trimmed_line, 1, length(trimmed_line) - 1)') }}
            else trimmed_line
        end as json_text
    from {{ prefix }}landing_lines
    where trimmed_line != ''
),

{{ prefix }}landing_objects as (
    select
        *,
        {{ parse_landing_object('json_text', json_keys) }} as landing_object
    from {{ prefix }}landing_texts
),

{{ prefix }}landing_values as (
    -- each declared key's value as text, and whether it is an object or
    -- an array (or a string holding one: some engines cannot tell)
    select
        landing_line,
        landing_file,
        landing_file_modified_ms,
        not {{ landing_object_is_valid('landing_object') }} as is_malformed,
        {%- for key in json_keys %}
        {{ landing_object_text('landing_object', key, loop.index) }} as json_value_{{ loop.index }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ prefix }}landing_objects
),

{{ prefix }}landing_flags as (
    select
        *,
        {%- for key in json_keys %}
        {{ is_json_container_text('json_value_' ~ loop.index) }} as json_container_{{ loop.index }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ prefix }}landing_values
),

{{ prefix }}landing_checks as (
    -- whether the value of a column (its first key present: a null counts
    -- as absent) is an object or an array
    select
        *,
        not is_malformed and (false
            {%- for column in columns %}
            or case
                {%- for key in column['keys'] %}
                {%- set position = json_keys.index(key) + 1 %}
                when json_value_{{ position }} is not null then json_container_{{ position }}
                {%- endfor %}
                else false
            end
            {%- endfor %}
        ) as has_non_scalar_value
    from {{ prefix }}landing_flags
),

{{ prefix }}landing_records as (
    -- a column's value is that of its first key present; a malformed line
    -- has no values, an object or array is none
    select
        landing_line,
        -- the line itself where its values cannot show what was delivered
        case
            when is_malformed or has_non_scalar_value then landing_line
        end as line_as_delivered,
        landing_file,
        landing_file_modified_ms,
        is_malformed,
        has_non_scalar_value,
        {%- for column in columns %}
        case
            when is_malformed then null
            {%- for key in column['keys'] %}
            {%- set position = json_keys.index(key) + 1 %}
            when json_value_{{ position }} is not null
                then case when not json_container_{{ position }} then json_value_{{ position }} end
            {%- endfor %}
        end as {{ adapter.quote(column['name']) }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ prefix }}landing_checks
)
{%- endmacro %}


{#- The columns every landing record carries beside its declared keys, which
    the screening models pass on to their verdicts and rejected views: one
    list, so that a new one cannot be forgotten in a union. -#}
{% macro landing_record_columns(relation=none) -%}
{%- set names = [
    'is_malformed',
    'has_non_scalar_value',
    'line_as_delivered',
    'landing_file',
    'landing_file_modified_ms',
] %}
{%- for name in names -%}
{{ relation ~ '.' if relation }}{{ name }}{{ ',\n        ' if not loop.last }}
{%- endfor -%}
{%- endmacro %}

{% macro is_landing_data_file(path) -%}
    {#- Landing data are the files named *.json or *.json.gz; any other file
        under a data set's folder is not read, on every engine. -#}
    ({{ path }} like '%.json' or {{ path }} like '%.json.gz')
{%- endmacro %}


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
