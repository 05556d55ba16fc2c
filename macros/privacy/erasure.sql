{#- How an erasure request reaches the screening models: each decides
    'erased' first, from the request's hash, and keeps nothing of an erased
    line but that hash, the reason and the file (docs/privacy.md). -#}


{% macro email_in_text(text) -%}
    {#- The first e-mail-like text in a line: a run of characters without
        quotes, spaces, commas, colons or braces around an @. It names the
        customer of a line that cannot be parsed (a truncated line still
        carries the e-mail when it was cut after it). Null when none. Both
        engines' regexp_extract return group 0 for the whole match (Spark
        '' for no match, Trino null). The single quote is chr(39): the
        engines escape it differently in a literal. -#}
    {%- set no_separator = "'[^\"', chr(39), ' ,:{}]+'" %}
    nullif(regexp_extract(
        {{ text }}, concat({{ no_separator }}, '@', {{ no_separator }}), 0
    ), '')
{%- endmacro %}


{% macro erasure_request_of(email, line_as_delivered) -%}
    {#- The text an erasure request's hash is compared with: the parsed
        e-mail, or the one in a line that has no parsed e-mail. -#}
    {{ erasure_hash('coalesce(' ~ email ~ ', ' ~ email_in_text(line_as_delivered) ~ ')') }}
{%- endmacro %}


{% macro unless_erased(columns, kept=[]) -%}
    {#- The select list of a screening model's forgotten CTE: each of columns,
        null on an erased row (one whose erasure_request_sha256 is set), then
        what an erased row keeps: the landing file, the line's format flags,
        the request's hash and kept. -#}
    {%- for column in columns %}
        case when erasure_request_sha256 is null then {{ column }} end as {{ column }},
    {%- endfor %}
    {%- for column in ['is_malformed', 'has_non_scalar_value', 'landing_file',
        'landing_file_modified_ms', 'erasure_request_sha256'] + kept %}
        {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
