{% macro delete_overlapping_partitions(target_relation, tmp_relation, partitioned_by) %}
    {#- Overrides dbt-athena's step of insert_overwrite on Hive tables (the
        partitions the new rows fall in are emptied before the insert). Its
        own finds them by Glue filter expressions, which fail on the null
        date (see athena__drop_reading_date_partitions) and render a null
        date as 'None'. The project partitions by reading_date alone. -#}
    {%- if partitioned_by | list != ['reading_date'] -%}
        {{ exceptions.raise_compiler_error(
            target_relation ~ ": insert_overwrite here partitions by reading_date only, not "
            ~ partitioned_by | join(', ')) }}
    {%- endif -%}
    {%- set found = run_query('select distinct reading_date from ' ~ tmp_relation) -%}
    {%- set dates = [] -%}
    {%- for row in found.rows -%}
        {%- do dates.append(none if row[0] is none else row[0] | string) -%}
    {%- endfor -%}
    {%- do athena__drop_reading_date_partitions(target_relation, dates) -%}
{% endmacro %}
