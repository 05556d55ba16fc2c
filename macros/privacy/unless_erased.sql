{% macro unless_erased(column) -%}
    {#- The column's value, or null on a row kept out because its customer
        asked to be forgotten: the rejected views count such rows but do not
        repeat their data. -#}
    case when exclusion_reason = 'erased' then null else {{ column }} end
{%- endmacro %}
