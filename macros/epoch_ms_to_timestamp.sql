{% macro epoch_ms_to_timestamp(epoch_ms) %}
    {#- Epoch milliseconds (bigint) to a UTC timestamp with millisecond
        precision. -#}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'stedi')(epoch_ms)) }}
{% endmacro %}

{% macro spark__epoch_ms_to_timestamp(epoch_ms) -%}
    timestamp_millis({{ epoch_ms }})
{%- endmacro %}

{% macro athena__epoch_ms_to_timestamp(epoch_ms) -%}
    {#- Integer arithmetic: from_unixtime(x / 1000.0) goes through a double
        and can land a millisecond off. -#}
    date_add('millisecond', {{ epoch_ms }}, timestamp '1970-01-01 00:00:00.000')
{%- endmacro %}
