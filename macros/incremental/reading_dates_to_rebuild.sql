{% macro reading_dates_to_rebuild(screened_models) %}
    {#- The reading dates of this incremental model to rebuild: those where
        one of its screening models has rescreened rows since the newest
        verdict this model holds (all dates when it holds none, or when its
        last write did not complete: see incremental_writes.sql). -#}
    {%- if not execute or not is_incremental_with_state() -%}{{ return([]) }}{%- endif -%}
    {%- do require_incremental_columns(['screened_at', 'reading_date']) -%}
    {%- set never = "cast('1970-01-01 00:00:00' as timestamp)" -%}
    {#- after a write that did not complete, every date (incremental_writes) -#}
    {%- set newest_verdict = (
        '(select coalesce(max(screened_at), ' ~ never ~ ') from ' ~ this ~ ')'
        if previous_write_completed() else never) -%}
    {%- set selects = [] -%}
    {%- for name in screened_models -%}
        {%- do selects.append(
            'select reading_date from ' ~ ref(name)
            ~ ' where reading_date is not null and screened_at > ' ~ newest_verdict) -%}
    {%- endfor -%}
    {%- set dates_query -%}
        select distinct reading_date
        from ({{ selects | join(' union all ') }}) as rescreened
        order by reading_date
    {%- endset -%}
    {%- set dates = [] -%}
    {%- for value in run_query(dates_query).columns[0].values() -%}
        {%- do dates.append(value | string) -%}
    {%- endfor -%}
    {{ return(dates) }}
{% endmacro %}
