{#- The landing file each row was read from, and when that file was written:
    each engine's own metadata columns of a file-backed table. -#}


{% macro landing_file_path() %}
    {#- The file a landing row was read from (its full URI). -#}
    {{ return(adapter.dispatch('landing_file_path', 'stedi')()) }}
{% endmacro %}

{% macro spark__landing_file_path() -%}
    _metadata.file_path
{%- endmacro %}

{% macro athena__landing_file_path() -%}
    "$path"
{%- endmacro %}


{% macro landing_file_modified_ms() %}
    {#- When the landing row's file was last written, in epoch ms. -#}
    {{ return(adapter.dispatch('landing_file_modified_ms', 'stedi')()) }}
{% endmacro %}

{% macro spark__landing_file_modified_ms() -%}
    unix_millis(_metadata.file_modification_time)
{%- endmacro %}

{% macro athena__landing_file_modified_ms() -%}
    cast(to_unixtime("$file_modified_time") * 1000 as bigint)
{%- endmacro %}


{% macro landing_file_modified_since(epoch_ms) %}
    {#- A filter on the file's own metadata: files written since epoch_ms.
        Spark applies it while listing files (older files are never
        opened); Trino, and so Athena, reads them and filters the rows. -#}
    {{ return(adapter.dispatch('landing_file_modified_since', 'stedi')(epoch_ms)) }}
{% endmacro %}

{% macro spark__landing_file_modified_since(epoch_ms) -%}
    _metadata.file_modification_time >= timestamp_millis({{ epoch_ms }})
{%- endmacro %}

{% macro athena__landing_file_modified_since(epoch_ms) -%}
    "$file_modified_time" >= from_unixtime_nanos({{ epoch_ms }} * 1000000)
{%- endmacro %}
