{#- The partition column of the reading tables, and the filter on it. -#}


{% macro reading_date(epoch_ms) -%}
    {#- The partition of a reading: its UTC date, or null when its time is
        missing or implausible (such rows share the null partition). -#}
    case
        when {{ plausible_reading_time(epoch_ms) }}
            then cast({{ epoch_ms_to_timestamp(epoch_ms) }} as date)
    end
{%- endmacro %}


{% macro reading_date_in(dates) -%}
    {#- reading_date in (date literals...), or is null for a none among the
        dates; false for no dates. -#}
    {%- set known_dates = dates | reject('none') | list -%}
    {%- set conditions = [] -%}
    {%- if known_dates -%}
        {%- set literals = [] -%}
        {%- for value in known_dates -%}
            {%- do literals.append("date '" ~ value ~ "'") -%}
        {%- endfor -%}
        {%- do conditions.append('reading_date in (' ~ literals | join(', ') ~ ')') -%}
    {%- endif -%}
    {%- if none in dates -%}
        {%- do conditions.append('reading_date is null') -%}
    {%- endif -%}
    {%- if conditions | length == 0 -%}
        1 = 0
    {%- elif conditions | length == 1 -%}
        {{ conditions[0] }}
    {%- else -%}
        ({{ conditions | join(' or ') }})
    {%- endif -%}
{%- endmacro %}
