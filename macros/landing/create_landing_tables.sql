{% macro create_landing_tables() %}
    {#- Declares one table per landing source over its folder: one row per
        delivered line, the line as text in the column `line`, never parsed
        by the engine. The screening models parse it by the project's own
        rules (landing_record_ctes). Runs as an on-run-start hook, so every
        run re-points the tables at the current landing_root. -#}
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


{% macro landing_source_node(source_name) %}
    {%- for node in landing_source_nodes() if node.name == source_name -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no landing source named " ~ source_name) }}
{% endmacro %}


{% macro landing_folder(source_name) %}
    {%- set node = landing_source_node(source_name) -%}
    {{ return(node.meta.get('landing_folder', node.name)) }}
{% endmacro %}


{% macro spark__create_landing_tables() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- for node in landing_source_nodes() -%}
        {%- set location = landing_location(landing_folder(node.name)) -%}
        {%- set relation = api.Relation.create(schema=node.schema, identifier=node.identifier) -%}
        {% do run_ddl('create schema if not exists ' ~ node.schema) %}
        {#- The table is external (it has a location): dropping it never
            touches the landing files. The text source reads every file of
            the folder (gzip by its .gz name), not its subfolders; the
            screening models keep the data files (is_landing_data_file). -#}
        {% do run_ddl('drop table if exists ' ~ relation) %}
        {% do run_ddl(
            'create table ' ~ relation ~ ' (line string) using text'
            ~ " location '" ~ location ~ "'"
        ) %}
        {{ log('landing table ' ~ relation ~ ' -> ' ~ location, info=True) }}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}

{% macro athena__create_landing_tables() %}
    {#- External text tables over s3://.../<dataset>/ with one string
        column. No JSON SerDe: Trino's (Athena engine v3) ignores the serde
        properties that would make it match Spark, matches keys
        case-insensitively and fails the whole query on one malformed line.
        The regex SerDe with '(.*)' keeps every line whole: the plain text
        SerDe would cut a line at its first \u0001 and read '\N' as null.
        Gzip is read by the .gz name. -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- for node in landing_source_nodes() -%}
        {%- set location = landing_location(landing_folder(node.name)) -%}
        {%- set table = '`' ~ node.schema ~ '`.`' ~ node.identifier ~ '`' -%}
        {% do run_ddl('create database if not exists `' ~ node.schema ~ '`') %}
        {% do run_ddl('drop table if exists ' ~ table) %}
        {% do run_ddl(
            'create external table ' ~ table ~ ' (`line` string)'
            ~ " row format serde 'org.apache.hadoop.hive.serde2.RegexSerDe'"
            ~ " with serdeproperties ('input.regex'='(.*)')"
            ~ " stored as inputformat 'org.apache.hadoop.mapred.TextInputFormat'"
            ~ " outputformat 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'"
            ~ " location '" ~ location.rstrip('/') ~ "/'"
            ~ " tblproperties ('classification'='text')"
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
