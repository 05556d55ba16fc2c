{% macro create_landing_tables() %}
    {#- Declares one table per landing source over its folder of JSON files,
        with the columns and types declared in _landing__sources.yml (never
        inferred). Runs as an on-run-start hook, so every run re-points the
        tables at the current landing_root. -#}
    {{ return(adapter.dispatch('create_landing_tables', 'stedi')()) }}
{% endmacro %}


{% macro landing_source_nodes() %}
    {%- set nodes = [] -%}
    {%- for node in graph.sources.values()
        if node.package_name == project_name and node.source_name == 'landing' -%}
        {%- do nodes.append(node) -%}
    {%- endfor -%}
    {{ return(nodes | sort(attribute='name')) }}
{% endmacro %}


{% macro landing_column_list(node) %}
    {#- The declared columns of a landing source, in YAML order, as
        (name, data_type) pairs; a column without a type is a project bug. -#}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                "landing source " ~ node.name ~ " column " ~ column.name
                ~ " has no data_type in _landing__sources.yml") }}
        {%- endif -%}
        {%- do columns.append((column.name, column.data_type)) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{% macro run_ddl(sql) %}
    {#- Runs a DDL statement without fetching a result: over Thrift, DDL
        returns no result set and run_query would fail on it. -#}
    {% call statement('landing_ddl', fetch_result=False, auto_begin=False) %}
        {{ sql }}
    {% endcall %}
{% endmacro %}


{% macro spark__create_landing_tables() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- for node in landing_source_nodes() -%}
        {%- set location = landing_location(node.meta.get('landing_folder', node.name)) -%}
        {%- set relation = api.Relation.create(schema=node.schema, identifier=node.identifier) -%}
        {%- set columns = [] -%}
        {%- for name, data_type in landing_column_list(node) -%}
            {%- do columns.append('`' ~ name ~ '` ' ~ data_type) -%}
        {%- endfor -%}
        {% do run_ddl('create schema if not exists ' ~ node.schema) %}
        {#- The table is external (it has a location): dropping it never
            touches the landing files. -#}
        {% do run_ddl('drop table if exists ' ~ relation) %}
        {% do run_ddl(
            'create table ' ~ relation ~ ' (' ~ columns | join(', ') ~ ')'
            ~ " using json options (pathGlobFilter '*.json', mode 'PERMISSIVE')"
            ~ " location '" ~ location ~ "'"
        ) %}
        {{ log('landing table ' ~ relation ~ ' -> ' ~ location, info=True) }}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}


{% macro athena__create_landing_tables() %}
    {#- External tables over s3://.../<dataset>/ with the Hive JSON SerDe
        (AWS documents the OpenX SerDe as able to return extra, missing or
        null rows). Columns are declared lower-case, as the Glue catalog
        stores them; each is mapped explicitly onto its mixed-case JSON key.
        A malformed line becomes a row of nulls (ignore.malformed.json), as
        on Spark, so the screening models count it instead of the query
        failing. Athena reads every object under the prefix: keep only the
        data set's files there (scripts/load_landing.py does). -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- for node in landing_source_nodes() -%}
        {%- set location = landing_location(node.meta.get('landing_folder', node.name)) -%}
        {%- set columns = [] -%}
        {%- set mappings = ["'case.insensitive'='false'", "'ignore.malformed.json'='true'"] -%}
        {%- for name, data_type in landing_column_list(node) -%}
            {%- do columns.append('`' ~ name | lower ~ '` ' ~ data_type) -%}
            {%- do mappings.append("'mapping." ~ name | lower ~ "'='" ~ name ~ "'") -%}
        {%- endfor -%}
        {%- set table = '`' ~ node.schema ~ '`.`' ~ node.identifier ~ '`' -%}
        {% do run_ddl('create database if not exists `' ~ node.schema ~ '`') %}
        {% do run_ddl('drop table if exists ' ~ table) %}
        {% do run_ddl(
            'create external table ' ~ table ~ ' (' ~ columns | join(', ') ~ ')'
            ~ " row format serde 'org.apache.hive.hcatalog.data.JsonSerDe'"
            ~ ' with serdeproperties (' ~ mappings | join(', ') ~ ')'
            ~ " stored as inputformat 'org.apache.hadoop.mapred.TextInputFormat'"
            ~ " outputformat 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'"
            ~ " location '" ~ location.rstrip('/') ~ "/'"
            ~ " tblproperties ('classification'='json')"
        ) %}
        {{ log('landing table ' ~ table ~ ' -> ' ~ location, info=True) }}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}


{% macro default__create_landing_tables() %}
    {{ exceptions.raise_compiler_error(
        "create_landing_tables has no implementation for adapter '"
        ~ adapter.type() ~ "'") }}
{% endmacro %}
