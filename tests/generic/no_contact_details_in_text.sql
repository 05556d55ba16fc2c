{% test no_contact_details_in_text(model, checked_as_keys=[]) %}
{#- Fails with one row per text column of the built relation that holds a
    value looking like an e-mail address or a phone number, with how many:
    never the values. Reads the columns the warehouse reports, so a text
    column added to the SQL is checked too. checked_as_keys: columns whose
    values are keys tested elsewhere (64 hex digits cannot look like
    either), left out so that a large table is not read for them. -#}
{%- set text_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- set data_type = column.data_type | lower -%}
        {%- if ('char' in data_type or 'string' in data_type)
            and column.name | lower not in checked_as_keys -%}
            {%- do text_columns.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if text_columns %}
select *
from (
    {%- for name in text_columns %}
    select
        '{{ name }}' as offending_column,
        count(*) as offending_values
    from {{ model }}
    where
        -- something@something.tld ([.] is a dot in both engines' regex and
        -- string literals)
        regexp_like({{ name }}, '[^@ ]+@[^@ ]+[.][A-Za-z]+')
        -- a whole value of 7 or more digits, spaces, dashes, dots or
        -- parentheses, as phone numbers are written
        or regexp_like({{ name }}, '^[+]?[0-9][0-9 ().-]{5,}[0-9]$')
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
) as counted
where offending_values > 0
{%- else %}
select
    'none' as offending_column,
    0 as offending_values
where 1 = 0
{%- endif %}
{% endtest %}
