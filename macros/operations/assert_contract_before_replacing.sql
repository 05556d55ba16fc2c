{% macro assert_contract_before_replacing() %}
    {#- Pre-hook of the curated models. Both dbt-spark (Parquet tables) and
        dbt-athena (Hive tables without `ha`) drop a table before they write
        its new version, and check the contract only while writing, so a
        break would leave no table at all. Checked here first (two queries
        that return no rows), a break fails the model and the consumer keeps
        the last good table. -#}
    {%- if execute and config.get('contract').enforced -%}
        {%- do assert_columns_equivalent(model.compiled_code) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
