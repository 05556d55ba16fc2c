{% macro rescreened_reading_dates(
    new_files, records, reading_time_column, epoch_ms_column, holders, holder_key,
    reading_key, holder_state, newly_erased=none
) %}
    {#- The reading dates an incremental run of a screening model rescreens,
        the null date as none:
        - the dates of the new files' readings;
        - the dates of readings whose holder (the customer of an e-mail, the
          holder of a device) changed since they were screened: the state
          columns each screened row stores differ from the holder's now;
        - the dates of readings that a new erasure request names where the
          holder state cannot tell (newly_erased, a condition on the
          model's rows: readings of no known customer, lines that cannot be
          parsed);
        - when readings screened without a date because their time lay in
          the future have seen that time come (moved_out_of_null_date), the
          dates they move to and the null date they leave.
        Found before the model's query runs, they enter it as literals: the
        engines then read only those dates' partitions of the model's table,
        and none when there are none, where a subquery of the dates would be
        evaluated again for each use and the table read to apply it. -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        with
        new_dates as (
            select distinct {{ reading_date(parse_bigint(reading_time_column)) }} as reading_date
            from {{ records }}
            where {{ is_new_landing_file(new_files) }}
        ),
        screened_holders as (
            -- the holder state each verdict was made with, per holder and
            -- date (a few rows per holder, not one per reading)
            select distinct
                {{ reading_key }},
                reading_date,
                {{ holder_state.keys() | join(', ') }}
            from {{ this }}
        ),
        changed_dates as (
            select distinct screened_holders.reading_date
            from screened_holders
            left join {{ holders }} as holders
                on screened_holders.{{ reading_key }} = holders.{{ holder_key }}
            where
                {%- for column, missing_value in holder_state.items() %}
                {{ 'or ' if not loop.first }}screened_holders.{{ column }}
                is distinct from coalesce(holders.{{ column }}, {{ missing_value }})
                {%- endfor %}
        ),
        {%- if newly_erased %}
        erased_dates as (
            select distinct reading_date
            from {{ this }}
            where {{ newly_erased }}
        ),
        {%- endif %}
        moved_readings as (
            select {{ reading_date(epoch_ms_column) }} as reading_date
            from {{ this }}
            where {{ moved_out_of_null_date(epoch_ms_column) }}
        )
        select new_dates.reading_date from new_dates
        union
        select changed_dates.reading_date from changed_dates
        union
        {%- if newly_erased %}
        select erased_dates.reading_date from erased_dates
        union
        {%- endif %}
        select moved_readings.reading_date from moved_readings
        union
        select distinct cast(null as date) as reading_date from moved_readings
    {%- endset -%}
    {%- set dates = [] -%}
    {%- for value in run_query(query).columns[0].values() -%}
        {%- do dates.append(none if value is none else value | string) -%}
    {%- endfor -%}
    {{ return(dates) }}
{% endmacro %}


{% macro moved_out_of_null_date(epoch_ms_column) -%}
    {#- A screened reading in the null date whose time has come since: the
        next run rescreens it into its own date. -#}
    reading_date is null and {{ reading_date(epoch_ms_column) }} is not null
{%- endmacro %}
