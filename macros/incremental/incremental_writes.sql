{#- Incremental writes that a failure cannot leave half done unnoticed.

    An incremental run of a reading table empties the reading dates it
    rebuilds, then writes them. Athena writes at most 100 partitions a query,
    so dbt-athena writes more dates in batches, and a batch can fail after
    others have landed (on Spark, a killed job can stop the same way). The
    dates emptied and not yet written are then missing, and the table's own
    rows no longer tell which they are.

    So each write is marked on the table: a pre-hook records that it started
    (with the run's invocation id), a post-hook that it completed. A run that
    finds a mark of another run's start rebuilds every reading date of the
    table, as a full build would, in the same incremental write: no date
    stays missing, and no landing file is taken for screened because some of
    its rows landed. -#}


{% macro write_mark_property() -%}
    {{ return('stedi.incremental_write') }}
{%- endmacro %}


{% macro mark_write_started() %}
    {#- Pre-hook of the incremental reading tables, before anything is
        emptied: the table's write has started, in this run; ":repair" when
        it repairs a write that did not complete, so that the hooks after
        this one rebuild the same dates as the model's query. -#}
    {%- if not execute or not is_incremental_with_state() -%}{{ return('') }}{%- endif -%}
    {%- set repair = '' if previous_write_completed() else ':repair' -%}
    {{ return(set_write_mark('started:' ~ invocation_id ~ repair)) }}
{% endmacro %}


{% macro mark_write_completed() %}
    {#- Post-hook of the incremental reading tables, the last: the whole
        write succeeded. -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {{ return(set_write_mark('completed')) }}
{% endmacro %}


{% macro set_write_mark(value) -%}
    {{ return(adapter.dispatch('set_write_mark', 'stedi')(value)) }}
{%- endmacro %}

{% macro spark__set_write_mark(value) -%}
    alter table {{ this }} set tblproperties ('{{ write_mark_property() }}' = '{{ value }}')
{%- endmacro %}

{% macro athena__set_write_mark(value) -%}
    {#- Hive DDL, which Athena applies to the table's Glue parameters -#}
    alter table {{ this.render_hive() }} set tblproperties ('{{ write_mark_property() }}' = '{{ value }}')
{%- endmacro %}


{% macro previous_write_completed() %}
    {#- False when this incremental table's last write started in another
        run and never completed (or this run repairs such a write): the
        caller then rebuilds every reading date. Says so in one line. -#}
    {%- if not execute or not is_incremental_with_state() -%}{{ return(true) }}{%- endif -%}
    {%- set mark = write_mark(this) -%}
    {%- if mark is none or mark == 'completed' -%}{{ return(true) }}{%- endif -%}
    {%- set own = 'started:' ~ invocation_id -%}
    {%- if mark == own -%}{{ return(true) }}{%- endif -%}
    {%- if mark != own ~ ':repair' -%}
        {{ log(this.identifier ~ ": its last write did not complete (" ~ mark
            ~ "); this run rebuilds every reading date", info=True) }}
    {%- endif -%}
    {{ return(false) }}
{% endmacro %}


{% macro write_mark(relation) -%}
    {#- The table's write mark (a table property), none when it has none. -#}
    {{ return(adapter.dispatch('write_mark', 'stedi')(relation)) }}
{%- endmacro %}

{% macro spark__write_mark(relation) -%}
    {%- set properties = run_query('show tblproperties ' ~ relation) -%}
    {%- for row in properties.rows if row[0] == write_mark_property() -%}
        {{ return(row[1]) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{% macro athena__write_mark(relation) -%}
    {#- The table's parameters in Glue, where Athena's ALTER TABLE SET
        TBLPROPERTIES writes them. -#}
    {%- set table = adapter.get_glue_table(relation) -%}
    {%- if table is none -%}{{ return(none) }}{%- endif -%}
    {{ return(table['Table'].get('Parameters', {}).get(write_mark_property())) }}
{%- endmacro %}
