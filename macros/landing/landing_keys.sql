{#- In a file of its own: a macro that returns a value (not SQL) must not be
    called from a macro of the same file when sqlfluff's jinja templater
    renders the models (tests/sqlfluff_athena). -#}


{% macro landing_keys(source_name) %}
    {#- The declared columns of a landing source in YAML order, each with
        the JSON keys it is read from: its own name first, then the aliases
        of its meta (e.g. timestamp is also read from timeStamp). None while
        dbt parses the project: the graph is not there yet. -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set columns = [] -%}
    {%- for node in graph.sources.values()
        if node.source_name == 'landing' and node.name == source_name -%}
    {%- for column in node.columns.values() -%}
        {%- set aliases = (column.meta or {}).get('aliases')
            or (column.config.meta if column.config is defined else {}).get('aliases')
            or [] -%}
        {%- do columns.append({'name': column.name, 'keys': [column.name] + aliases}) -%}
    {%- endfor -%}
    {%- endfor -%}
    {%- if columns | length == 0 -%}
        {{- exceptions.raise_compiler_error(
            "landing source " ~ source_name ~ " declares no columns in _landing__sources.yml") }}
    {%- endif -%}
    {{ return(columns) }}
{% endmacro %}
