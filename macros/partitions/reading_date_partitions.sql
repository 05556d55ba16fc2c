{#- The partition DDL of the reading tables: the reading dates a run
    rebuilds are dropped before it writes them, on each engine. -#}


{% macro drop_partitions_to_rebuild(screened_models) %}
    {#- Pre-hook of the incremental reading tables: drops the partitions
        about to be rebuilt. insert_overwrite replaces only the partitions the
        new rows fall in, so a date whose rows all lost their consent would
        otherwise keep them. -#}
    {%- set dates = reading_dates_to_rebuild(screened_models) -%}
    {%- if dates | length == 0 -%}{{ return('') }}{%- endif -%}
    {{ log(this.identifier ~ ": rebuilding " ~ dates | length ~ " reading date(s): "
        ~ dates | join(', '), info=True) }}
    {{ return(adapter.dispatch('drop_reading_date_partitions', 'stedi')(this, dates)) }}
{% endmacro %}


{% macro drop_emptied_null_date(epoch_ms_column) %}
    {#- Post-hook of the screening models. A reading whose time lay in the
        future when it was screened sits in the null date; once its time has
        come, a run rescreens it into its own date. When every reading of the
        null date moved so, the run wrote no null-date row, and insert_overwrite
        left the partition with the moved readings in it: drop it. -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set moved_query -%}
        select count(*) as moved_readings
        from {{ this }}
        where {{ moved_out_of_null_date(epoch_ms_column) }}
    {%- endset -%}
    {%- set result = run_query(moved_query) -%}
    {#- no row at all (e.g. a stand-in server) counts as none moved -#}
    {%- set moved_readings = result.rows[0][0] if result.rows | length > 0 else 0 -%}
    {%- if (moved_readings or 0) == 0 -%}{{ return('') }}{%- endif -%}
    {{ log(this.identifier ~ ": dropping the emptied null reading date", info=True) }}
    {{ return(adapter.dispatch('drop_reading_date_partitions', 'stedi')(this, [none])) }}
{% endmacro %}


{% macro spark__drop_reading_date_partitions(relation, dates) -%}
    {#- dates: ISO date strings, or none for the null date -#}
    alter table {{ relation }} drop if exists
    {% for value in dates -%}
        partition (reading_date = {{ "null" if value is none else "date '" ~ value ~ "'" }})
        {{- ", " if not loop.last }}
    {% endfor %}
{%- endmacro %}

{% macro athena__drop_reading_date_partitions(relation, dates) -%}
    {#- Deletes each partition's S3 objects (Hive's layout,
        <table>/reading_date=<value>/), then its Glue entry by value (ALTER
        TABLE ... DROP PARTITION). Not the adapter's clean_up_partitions: it
        finds partitions by a Glue filter expression, and Glue fails every
        filter on a date key once the null partition exists (its value,
        __HIVE_DEFAULT_PARTITION__, is no date). No SQL to return: it acts
        while the hook is rendered, so only in a command that builds. -#}
    {%- if flags.WHICH not in ['run', 'build'] or dates | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set location = adapter.get_glue_table_location(relation) -%}
    {%- if location is none -%}{{ return('') }}{%- endif -%}
    {%- set partitions = [] -%}
    {%- for value in dates -%}
        {#- Hive's name for the null partition, which Athena writes too -#}
        {%- set name = "__HIVE_DEFAULT_PARTITION__" if value is none else value | string -%}
        {%- do adapter.delete_from_s3(location.rstrip('/') ~ '/reading_date=' ~ name ~ '/') -%}
        {%- do partitions.append("partition (reading_date = '" ~ name ~ "')") -%}
    {%- endfor -%}
    {%- do run_ddl('alter table `' ~ relation.schema ~ '`.`' ~ relation.identifier
        ~ '` drop if exists ' ~ partitions | join(', ')) -%}
    {{ return('') }}
{%- endmacro %}
