{% macro landing_delivered_at_query() %}
    {#- The landing sources' loaded_at_query (dbt source freshness): when the
        newest data file (*.json, *.json.gz) of this source's folder was last
        written, as a UTC timestamp. It reads the file metadata each engine
        gives a landing row (landing_file_modified_ms, landing_file_path),
        so it holds on Spark and on Athena alike; it reads the folder's
        files to do so. An empty folder gives null, which dbt reports as an
        error. -#}
    select {{ epoch_ms_to_timestamp('max(' ~ landing_file_modified_ms() ~ ')') }}
    from {{ this }}
    where {{ is_landing_data_file(landing_file_path()) }}
{% endmacro %}
