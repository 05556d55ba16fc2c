{% macro plausible_reading_time(epoch_ms) %}
    {#- True when a reading's time is possible: not before the product
        existed (var product_launch_ms) and not in the future (after the
        start of this dbt run, plus a day for clock skew). -#}
    {%- set run_started_ms = (run_started_at.timestamp() * 1000) | int -%}
    {%- set latest_ms = run_started_ms + 24 * 3600 * 1000 -%}
    ({{ epoch_ms }} >= {{ var('product_launch_ms') }} and {{ epoch_ms }} <= {{ latest_ms }})
{%- endmacro %}
