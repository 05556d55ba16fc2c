{#- The landing rulebook: how a delivered line becomes a record, the same on
    every engine (README, "The landing rulebook"). The landing tables hold
    the lines as text; landing_record_ctes turns them into one row per
    record with the declared keys' values as text. Each step that engines
    do differently is one dispatched macro below. -#}


{% macro landing_record_ctes(source_name) %}
    {#- CTEs that read the landing source source_name line by line and end
        in landing_records: one row per record (blank lines are none) with
        landing_line (the line as delivered), line_as_delivered (the same,
        only where the values cannot show it), landing_file,
        landing_file_modified_ms, is_malformed, has_non_scalar_value and
        one text column per declared key. The record views
        (int_<source>_records) are its only readers. -#}
    {%- set columns = landing_keys(source_name) -%}
    {%- set json_keys = [] -%}
    {%- for column in columns -%}
        {%- for key in column['keys'] if key not in json_keys -%}
            {%- do json_keys.append(key) -%}
        {%- endfor -%}
    {%- endfor -%}
landing_lines as (
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
    where {{ is_landing_data_file(landing_file_path()) }}
    -- noqa: enable=RF03
),

landing_texts as (
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
    from landing_lines
    where trimmed_line != ''
),

landing_objects as (
    select
        *,
        {{ parse_landing_object('json_text', json_keys) }} as landing_object
    from landing_texts
),

landing_values as (
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
    from landing_objects
),

landing_flags as (
    select
        *,
        {%- for key in json_keys %}
        {{ is_json_container_text('json_value_' ~ loop.index) }} as json_container_{{ loop.index }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from landing_values
),

landing_checks as (
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
    from landing_flags
),

landing_records as (
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
    from landing_checks
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
