{% macro is_incremental_with_state() %}
    {#- dbt's is_incremental(), and false where dbt may not look up the
        warehouse (the offline `dbt compile --no-introspect` of
        scripts/benchmarks/reference_duckdb.py): there the model compiles to
        its full build. Its own name, so that dbt's is_incremental keeps its
        meaning for every reader. -#}
    {%- if not flags.INTROSPECT -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{% endmacro %}
