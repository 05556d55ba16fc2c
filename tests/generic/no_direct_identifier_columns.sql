{% test no_direct_identifier_columns(model, identifier_patterns=none) %}
{#- Fails with one row per column of the built relation whose name matches a
    direct-identifier pattern (e-mail, name, phone, birthday, by default).
    Reads the columns the warehouse reports, not the YAML, so an undocumented
    column cannot slip through. -#}
{%- set patterns = identifier_patterns or [
    'email', 'e_mail', 'mail', 'user', 'name', 'phone', 'birth'] -%}
{%- set offending = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- set normalized = column.name | lower | replace('_', '') -%}
        {%- for pattern in patterns
            if pattern | replace('_', '') in normalized -%}
            {%- do offending.append(column.name) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}
{%- if offending -%}
    {%- for name in offending | unique %}
select '{{ name }}' as offending_column
{%- if not loop.last %}
union all
{%- endif -%}
    {%- endfor %}
{%- else %}
select 'none' as offending_column
where 1 = 0
{%- endif %}
{% endtest %}
