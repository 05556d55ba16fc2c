{#- Incremental processing of the reading tables (see docs/incremental.md).
    The screening models take in only the landing files that are new since
    their last run and rescreen the reading dates touched
    by those files or by a changed customer; the trusted and curated reading
    tables then rebuild exactly the dates whose verdicts changed. -#}


{% macro landing_file_path() %}
    {#- The file a landing row was read from (its full URI). -#}
    {{ return(adapter.dispatch('landing_file_path', 'stedi')()) }}
{% endmacro %}

{% macro spark__landing_file_path() -%}
    _metadata.file_path
{%- endmacro %}

{% macro athena__landing_file_path() -%}
    "$path"
{%- endmacro %}


{% macro landing_file_modified_ms() %}
    {#- When the landing row's file was last written, in epoch ms. -#}
    {{ return(adapter.dispatch('landing_file_modified_ms', 'stedi')()) }}
{% endmacro %}

{% macro spark__landing_file_modified_ms() -%}
    unix_millis(_metadata.file_modification_time)
{%- endmacro %}

{% macro athena__landing_file_modified_ms() -%}
    cast(to_unixtime("$file_modified_time") * 1000 as bigint)
{%- endmacro %}


{% macro landing_file_modified_since(epoch_ms) %}
    {#- A filter on the file's own metadata, which both engines apply while
        listing files: files written before epoch_ms are never opened. -#}
    {{ return(adapter.dispatch('landing_file_modified_since', 'stedi')(epoch_ms)) }}
{% endmacro %}

{% macro spark__landing_file_modified_since(epoch_ms) -%}
    _metadata.file_modification_time >= timestamp_millis({{ epoch_ms }})
{%- endmacro %}

{% macro athena__landing_file_modified_since(epoch_ms) -%}
    "$file_modified_time" >= from_unixtime_nanos({{ epoch_ms }} * 1000000)
{%- endmacro %}


{% macro reading_date(epoch_ms) -%}
    {#- The partition of a reading: its UTC date, or null when its time is
        missing or implausible (such rows share the null partition). -#}
    case
        when {{ plausible_reading_time(epoch_ms) }}
            then cast({{ epoch_ms_to_timestamp(epoch_ms) }} as date)
    end
{%- endmacro %}


{% macro run_started_timestamp() -%}
    {#- This dbt run's start as a timestamp literal (millisecond precision,
        which both engines store): the screened_at of every row a run
        (re)screens. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.") ~ "%03d" | format(run_started_at.microsecond // 1000) }}' as timestamp)
{%- endmacro %}


{% macro sql_in_list(expression, values) -%}
    {#- expression in (values...) for string literals; false for no values. -#}
    {%- if values | length == 0 -%}
        1 = 0
    {%- else -%}
        {{ expression }} in (
        {%- for value in values -%}
            '{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}
        {%- endfor -%}
        )
    {%- endif -%}
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


{% macro screening_rules() -%}
    {#- The settings a screening verdict depends on, as one string stored
        with every verdict: verdicts made under other settings cannot be
        mixed with new ones. -#}
    {%- set settings = [
        'enforce_consent_date=' ~ (consent_date_enforced() | lower),
        'product_launch_ms=' ~ var('product_launch_ms'),
        'max_abs_acceleration=' ~ var('max_abs_acceleration'),
        'max_distance_from_object=' ~ var('max_distance_from_object'),
        'erasure_hash_salt=' ~ var('erasure_hash_salt'),
    ] -%}
    {{ return(settings | join(';')) }}
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


{% macro new_landing_files(source_name) %}
    {#- The files of the landing source source_name that this incremental run
        of a screening model takes in:
        those written since a day before the newest file it has already
        screened, less the files it has screened already: a dict of the
        files, that time (modified_since_ms) and the table (screened_in).
        Stops the run with a clear error, before anything is written, when the table's verdicts cannot
        be extended: they were made under other screening settings or over
        another landing folder, or a screened file was rewritten since (its
        rows would count twice). Each needs --full-refresh. -#}
    {%- if not execute -%}
        {{ return({'files': [], 'modified_since_ms': 0, 'screened_in': this}) }}
    {%- endif -%}
    {%- do require_incremental_columns(
        ['landing_file', 'landing_file_modified_ms', 'screening_rules', 'reading_date',
         'is_malformed', 'has_non_scalar_value', 'line_as_delivered']) -%}
    {%- set landing_relation = source('landing', source_name) -%}
    {%- set full_refresh_hint = " Rebuild from all landing files with --full-refresh"
        ~ " (dbt build --full-refresh, or make run ARGS=--full-refresh)." -%}
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
            ~ " than this run's (" ~ screening_rules() ~ ")." ~ full_refresh_hint) }}
    {%- endif -%}
    {%- if (state[2] or 0) > 0 -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": it holds rows of files outside " ~ location
            ~ " (landing_root changed?)." ~ full_refresh_hint) }}
    {%- endif -%}
    {#- Files written up to a day before the newest screened file are looked
        at again: S3 dates a multipart object by when its upload started, so
        a large file whose upload straddled the last run can be dated below
        its watermark. The bucket's lifecycle rule aborts an upload left
        incomplete for a day (bootstrap_aws), so none is dated earlier. -#}
    {%- set since_ms = [(state[0] | int) - var('late_delivery_window_ms'), 0] | max -%}
    {%- set candidates_query -%}
        select distinct
            {{ landing_file_path() }} as landing_file,
            {{ landing_file_modified_ms() }} as landing_file_modified_ms
        from {{ landing_relation }}
        where
            {{ landing_file_modified_since(since_ms) }}
            and {{ is_landing_data_file(landing_file_path()) }}
    {%- endset -%}
    {%- set candidates = {} -%}
    {%- for row in run_query(candidates_query).rows -%}
        {%- do candidates.update({row[0]: row[1] | int}) -%}
    {%- endfor -%}
    {#- One look at the table for the candidates' paths tells both which are
        screened already (same modification time) and which were rewritten
        since (another one); a few hundred paths a query, to stay well within
        Athena's 262,144 bytes of query text. -#}
    {%- set screened = {} -%}
    {%- for paths in candidates.keys() | sort | batch(landing_files_per_query()) -%}
        {%- set screened_query -%}
            select distinct landing_file, landing_file_modified_ms
            from {{ this }}
            where {{ sql_in_list('landing_file', paths) }}
        {%- endset -%}
        {#- to the second: S3 dates objects to the second, and a folder
            restored from an archive (tar) may keep no more -#}
        {%- for row in run_query(screened_query).rows -%}
            {%- do screened.setdefault(row[0], []).append((row[1] | int) // 1000) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set new_files = [] -%}
    {%- set rewritten = [] -%}
    {%- for path, modified_ms in candidates.items() | sort -%}
        {%- if path not in screened -%}
            {%- do new_files.append(path) -%}
        {%- elif modified_ms // 1000 not in screened[path] -%}
            {%- do rewritten.append(path) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if rewritten -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": landing file(s) changed after they were screened: "
            ~ (rewritten | join(', ')) ~ ". Landing files are append-only."
            ~ full_refresh_hint) }}
    {%- endif -%}
    {{ log(this.identifier ~ ": " ~ new_files | length ~ " new landing file(s)", info=True) }}
    {{ return({'files': new_files, 'modified_since_ms': since_ms, 'screened_in': this}) }}
{% endmacro %}


{% macro landing_files_per_query() -%}
    {#- How many landing paths one query names: an S3 key is at most 1,024
        bytes, so 200 of them stay within Athena's 262,144 bytes of query
        text with the rest of the query. -#}
    {{ return(200) }}
{%- endmacro %}


{% macro is_new_landing_file(new_files) -%}
    {#- The filter on a landing source's rows for new_files (what
        new_landing_files returned): the files by name, which both engines
        prune on before they open a file; or, when naming them all would not
        fit Athena's query text, the same files as those written since the
        same time that the table has not screened. -#}
    {%- if new_files.files | length <= landing_files_per_query() -%}
        {{ sql_in_list(landing_file_path(), new_files.files) }}
    {%- else -%}
        {{ landing_file_modified_since(new_files.modified_since_ms) }}
        and {{ landing_file_path() }} not in (
            select landing_file from {{ new_files.screened_in }}
            where
                landing_file_modified_ms >= {{ new_files.modified_since_ms }}
                and landing_file is not null
        )
    {%- endif -%}
{%- endmacro %}


{% macro rescreened_reading_dates(import_ctes, rescreen_ctes, epoch_ms_column) %}
    {#- The reading dates an incremental run of a screening model rescreens,
        the null date as none: those of the CTE rescreened_dates, the last of
        rescreen_ctes, which may read the model's import_ctes; and, when
        readings screened without a date because their time lay in the future
        have seen that time come (moved_out_of_null_date), the dates they move
        to and the null date they leave. Found before the model's query runs,
        they enter it as literals: the engines then read only those dates'
        partitions of the model's table, and none when there are none, where
        a subquery of the dates would be evaluated again for each use and the
        table read to apply it. -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        with
        {{ import_ctes }},
        {{ rescreen_ctes }},
        moved_readings as (
            select {{ reading_date(epoch_ms_column) }} as reading_date
            from {{ this }}
            where {{ moved_out_of_null_date(epoch_ms_column) }}
        )
        select rescreened_dates.reading_date from rescreened_dates
        union
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


{% macro reading_dates_to_rebuild(screened_models) %}
    {#- The reading dates of this incremental model to rebuild: those where
        one of its screening models has rescreened rows since the newest
        verdict this model holds (all dates when it holds none, or when its
        last write did not complete: see incremental_writes.sql). -#}
    {%- if not execute or not is_incremental() -%}{{ return([]) }}{%- endif -%}
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


{% macro drop_partitions_to_rebuild(screened_models) %}
    {#- Pre-hook of the incremental reading tables: drops the partitions
        about to be rebuilt. insert_overwrite replaces only the partitions the
        new rows fall in, so a date whose rows all lost their consent would
        otherwise keep them. -#}
    {%- set dates = reading_dates_to_rebuild(screened_models) -%}
    {%- if dates | length == 0 -%}{{ return('') }}{%- endif -%}
    {{ log(this.identifier ~ ": rebuilding " ~ dates | length ~ " reading date(s): "
        ~ dates | join(', '), info=True) }}
    {{ return(adapter.dispatch('drop_reading_date_partitions', 'stedi')(this, dates)) }}
{% endmacro %}

{% macro drop_emptied_null_date(epoch_ms_column) %}
    {#- Post-hook of the screening models. A reading whose time lay in the
        future when it was screened sits in the null date; once its time has
        come, a run rescreens it into its own date. When every reading of the
        null date moved so, the run wrote no null-date row, and insert_overwrite
        left the partition with the moved readings in it: drop it. -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set moved_query -%}
        select count(*) as moved_readings
        from {{ this }}
        where {{ moved_out_of_null_date(epoch_ms_column) }}
    {%- endset -%}
    {%- set result = run_query(moved_query) -%}
    {#- no row at all (e.g. a stand-in server) counts as none moved -#}
    {%- set moved_readings = result.rows[0][0] if result.rows | length > 0 else 0 -%}
    {%- if (moved_readings or 0) == 0 -%}{{ return('') }}{%- endif -%}
    {{ log(this.identifier ~ ": dropping the emptied null reading date", info=True) }}
    {{ return(adapter.dispatch('drop_reading_date_partitions', 'stedi')(this, [none])) }}
{% endmacro %}

{% macro spark__drop_reading_date_partitions(relation, dates) -%}
    {#- dates: ISO date strings, or none for the null date -#}
    alter table {{ relation }} drop if exists
    {% for value in dates -%}
        partition (reading_date = {{ "null" if value is none else "date '" ~ value ~ "'" }})
        {{- ", " if not loop.last }}
    {% endfor %}
{%- endmacro %}

{% macro athena__drop_reading_date_partitions(relation, dates) -%}
    {#- Deletes each partition's S3 objects (Hive's layout,
        <table>/reading_date=<value>/), then its Glue entry by value (ALTER
        TABLE ... DROP PARTITION). Not the adapter's clean_up_partitions: it
        finds partitions by a Glue filter expression, and Glue fails every
        filter on a date key once the null partition exists (its value,
        __HIVE_DEFAULT_PARTITION__, is no date). No SQL to return: it acts
        while the hook is rendered, so only in a command that builds. -#}
    {%- if flags.WHICH not in ['run', 'build'] or dates | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set location = adapter.get_glue_table_location(relation) -%}
    {%- if location is none -%}{{ return('') }}{%- endif -%}
    {%- set partitions = [] -%}
    {%- for value in dates -%}
        {#- Hive's name for the null partition, which Athena writes too -#}
        {%- set name = "__HIVE_DEFAULT_PARTITION__" if value is none else value | string -%}
        {%- do adapter.delete_from_s3(location.rstrip('/') ~ '/reading_date=' ~ name ~ '/') -%}
        {%- do partitions.append("partition (reading_date = '" ~ name ~ "')") -%}
    {%- endfor -%}
    {%- do run_ddl('alter table `' ~ relation.schema ~ '`.`' ~ relation.identifier
        ~ '` drop if exists ' ~ partitions | join(', ')) -%}
    {{ return('') }}
{%- endmacro %}


{% macro delete_overlapping_partitions(target_relation, tmp_relation, partitioned_by) %}
    {#- Overrides dbt-athena's step of insert_overwrite on Hive tables (the
        partitions the new rows fall in are emptied before the insert). Its
        own finds them by Glue filter expressions, which fail on the null
        date (see athena__drop_reading_date_partitions) and render a null
        date as 'None'. The project partitions by reading_date alone. -#}
    {%- if partitioned_by | list != ['reading_date'] -%}
        {{ exceptions.raise_compiler_error(
            target_relation ~ ": insert_overwrite here partitions by reading_date only, not "
            ~ partitioned_by | join(', ')) }}
    {%- endif -%}
    {%- set found = run_query('select distinct reading_date from ' ~ tmp_relation) -%}
    {%- set dates = [] -%}
    {%- for row in found.rows -%}
        {%- do dates.append(none if row[0] is none else row[0] | string) -%}
    {%- endfor -%}
    {%- do athena__drop_reading_date_partitions(target_relation, dates) -%}
{% endmacro %}
