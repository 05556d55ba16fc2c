{#- What an incremental run of a screening model reads of its own table
    before it screens: that the table has the columns the run needs, and
    (screened_table_state) its newest file, rules and folder. -#}


{% macro screened_table_state(source_name) %}
    {#- The state of this screening model's table that an incremental run
        extends: a dict with modified_since_ms, the time from which landing
        files are looked at (a day before the newest file screened). Stops
        the run with a clear error, before anything is written, when the
        table's verdicts cannot be extended: they were made under other
        screening settings or over another landing folder. Each needs
        --full-refresh. -#}
    {%- if not execute -%}{{ return({'modified_since_ms': 0}) }}{%- endif -%}
    {%- do require_incremental_columns(
        ['landing_file', 'landing_file_modified_ms', 'screening_rules', 'reading_date',
         'is_malformed', 'has_non_scalar_value', 'line_as_delivered']) -%}
    {%- set location = landing_location(landing_folder(source_name)) -%}
    {%- set state_query -%}
        select
            coalesce(max(landing_file_modified_ms), 0) as watermark_ms,
            sum(case when screening_rules != '{{ screening_rules() }}' then 1 else 0 end)
                as other_rules,
            sum(case when landing_file not like '%{{ location }}/%' then 1 else 0 end)
                as other_folder
        from {{ this }}
    {%- endset -%}
    {%- set state = run_query(state_query).rows[0] -%}
    {%- if (state[1] or 0) > 0 -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": its verdicts were made under other screening settings"
            ~ " than this run's (" ~ screening_rules() ~ ")." ~ full_refresh_hint()) }}
    {%- endif -%}
    {%- if (state[2] or 0) > 0 -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": it holds rows of files outside " ~ location
            ~ " (landing_root changed?)." ~ full_refresh_hint()) }}
    {%- endif -%}
    {#- Files written up to a day before the newest screened file are looked
        at again: S3 dates a multipart object by when its upload started, so
        a large file whose upload straddled the last run can be dated below
        its watermark. The bucket's lifecycle rule aborts an upload left
        incomplete for a day (bootstrap_aws), so none is dated earlier. -#}
    {{ return({'modified_since_ms':
        [(state[0] | int) - var('late_delivery_window_ms'), 0] | max}) }}
{% endmacro %}


{% macro full_refresh_hint() -%}
    {#- What the errors that stop an incremental run ask for. -#}
    {{ return(" Rebuild from all landing files with --full-refresh"
        ~ " (dbt build --full-refresh, or make run ARGS=--full-refresh).") }}
{%- endmacro %}


{% macro require_incremental_columns(column_names) %}
    {#- Stops the run with a clear error when this model's table lacks the
        columns its incremental run reads, e.g. a table built before the model
        became incremental: the engine's own error would not say what to do. -#}
    {%- set present = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
        {%- do present.append(column.name | lower) -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for name in column_names if name not in present -%}
        {%- do missing.append(name) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": the table has no " ~ missing | join(', ')
            ~ " column(s); it was built by an older version of this project."
            ~ " Rebuild it with --full-refresh (dbt build --full-refresh, or"
            ~ " make run ARGS=--full-refresh).") }}
    {%- endif -%}
{% endmacro %}


{% macro run_started_timestamp() -%}
    {#- This dbt run's start as a timestamp literal (millisecond precision,
        which both engines store): the screened_at of every row a run
        (re)screens. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.") ~ "%03d" | format(run_started_at.microsecond // 1000) }}' as timestamp)
{%- endmacro %}
