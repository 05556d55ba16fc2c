{% test no_pii_columns(model) %}
{#- Fails with one row per column of the built relation that its YAML
    classifies as personal data (config.meta.pii: true) or does not classify
    at all. Reads the columns the warehouse reports, so a column added to the
    SQL but not to the YAML fails too. -#}
{%- set problems = [] -%}
{%- if execute -%}
    {%- set nodes = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('schema', 'equalto', model.schema)
        | selectattr('alias', 'equalto', model.identifier)
        | list -%}
    {%- set documented = {} -%}
    {%- for column in (nodes[0].columns.values() if nodes else []) -%}
        {%- set meta = (column.get('config') or {}).get('meta') or column.get('meta') or {} -%}
        {%- do documented.update({column.name | lower: meta.get('pii')}) -%}
    {%- endfor -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- set pii = documented.get(column.name | lower) -%}
        {%- if pii is none -%}
            {%- do problems.append((column.name, 'unclassified')) -%}
        {%- elif pii is not false -%}
            {%- do problems.append((column.name, 'pii')) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if problems -%}
    {%- for name, problem in problems %}
select
    '{{ name }}' as offending_column,
    '{{ problem }}' as problem
{%- if not loop.last %}
union all
{%- endif -%}
    {%- endfor %}
{%- else %}
select
    'none' as offending_column,
    'none' as problem
where 1 = 0
{%- endif %}
{% endtest %}
