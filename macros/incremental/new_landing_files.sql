{#- Incremental processing of the reading tables (see docs/incremental.md).
    The screening models take in only the landing files that are new since
    their last run and rescreen the reading dates touched
    by those files or by a changed customer; the trusted and curated reading
    tables then rebuild exactly the dates whose verdicts changed. -#}


{% macro new_landing_files(source_name) %}
    {#- The files of the landing source source_name that this incremental run
        of a screening model takes in: those written since a day before the
        newest file it has already screened (screened_table_state), less the
        files it has screened already. A dict of the files, that time
        (modified_since_ms), the table (screened_in) and source_name.
        Stops the run with a clear error, before anything is written, when a
        screened file was rewritten since (its rows would count twice): that
        needs --full-refresh. -#}
    {%- set since_ms = screened_table_state(source_name).modified_since_ms -%}
    {%- if not execute -%}
        {{ return({'files': [], 'modified_since_ms': 0, 'screened_in': this,
            'source_name': source_name}) }}
    {%- endif -%}
    {%- set candidates_query -%}
        select distinct
            {{ landing_file_path() }} as landing_file,
            {{ landing_file_modified_ms() }} as landing_file_modified_ms
        from {{ source('landing', source_name) }}
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
            ~ full_refresh_hint()) }}
    {%- endif -%}
    {{ log(this.identifier ~ ": " ~ new_files | length ~ " new landing file(s)", info=True) }}
    {{ return({'files': new_files, 'modified_since_ms': since_ms, 'screened_in': this,
        'source_name': source_name}) }}
{% endmacro %}


{% macro landing_files_per_query() -%}
    {#- How many landing paths one query names: an S3 key is at most 1,024
        bytes, so 200 of them stay within Athena's 262,144 bytes of query
        text with the rest of the query. -#}
    {{ return(200) }}
{%- endmacro %}


{% macro is_new_landing_file(new_files) -%}
    {#- The filter on a landing record view's rows (int_<source>_records) for
        new_files (what new_landing_files returned): the files by name, which
        both engines prune on before they open a file, through the view; or,
        when naming them all would not fit Athena's query text, the same
        files as those written since the same time that the table has not
        screened (Spark prunes on the time too, Trino does not). -#}
    {%- if new_files.files | length <= landing_files_per_query() -%}
        {{ sql_in_list('landing_file', new_files.files) }}
    {%- else -%}
        landing_file_modified_ms >= {{ new_files.modified_since_ms }}
        and landing_file not in (
            select screened.landing_file from {{ new_files.screened_in }} as screened
            where
                screened.landing_file_modified_ms >= {{ new_files.modified_since_ms }}
                and screened.landing_file is not null
        )
    {%- endif -%}
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
