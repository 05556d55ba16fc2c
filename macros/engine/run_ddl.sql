{% macro run_ddl(sql) %}
    {#- Runs a DDL statement without fetching a result: over Thrift, DDL
        returns no result set and run_query would fail on it. -#}
    {% call statement('landing_ddl', fetch_result=False, auto_begin=False) %}
        {{ sql }}
    {% endcall %}
{% endmacro %}
