{% macro epoch_ms_to_timestamp(epoch_ms) %}
    {#- Epoch milliseconds (bigint) to a UTC timestamp with millisecond
        precision; null outside the years 0001 to 9999, which every engine
        can hold (a value from a hostile line must not fail the query). -#}
    case
        when {{ epoch_ms }} between -62135596800000 and 253402300799999
            then {{ adapter.dispatch('epoch_ms_to_timestamp', 'stedi')(epoch_ms) }}
    end
{% endmacro %}

{% macro spark__epoch_ms_to_timestamp(epoch_ms) -%}
    timestamp_millis({{ epoch_ms }})
{%- endmacro %}

{% macro athena__epoch_ms_to_timestamp(epoch_ms) -%}
    {#- Whole seconds, then the milliseconds as an interval: exact, where
        from_unixtime(ms / 1000.0) goes through a fractional double and can
        land a millisecond off, and date_add('millisecond', ...) overflows
        above 2^31 ms on Trino releases before 480 (trinodb/trino#27899).
        The remainder keeps the sign of epoch_ms, so the two parts add up
        before 1970 too. -#}
    cast(from_unixtime(({{ epoch_ms }} - {{ epoch_ms }} % 1000) / 1000, 'UTC') as timestamp(3))
    + ({{ epoch_ms }} % 1000) * interval '0.001' second
{%- endmacro %}
