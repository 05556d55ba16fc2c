{% macro is_incremental() %}
    {#- dbt's own is_incremental, except without introspection (the offline
        `dbt compile --no-introspect` of scripts/benchmarks/reference_duckdb.py): no
        relation can be looked up there, so the SQL compiled is the full
        build's. -#}
    {%- if not flags.INTROSPECT -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{% endmacro %}
