{% macro print_zone_summary() %}
    {#- Prints the rows in every landing, trusted and curated table and how
        many rows each rule kept out of the trusted zone. Run after a build:
        dbt run-operation print_zone_summary -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}

    {%- set tables = [
        ('landing', 'customer', source('landing', 'customer')),
        ('landing', 'accelerometer', source('landing', 'accelerometer')),
        ('landing', 'step_trainer', source('landing', 'step_trainer')),
        ('trusted', 'customer_trusted', ref('customer_trusted')),
        ('trusted', 'accelerometer_trusted', ref('accelerometer_trusted')),
        ('trusted', 'step_trainer_trusted', ref('step_trainer_trusted')),
        ('curated', 'customers_curated', ref('customers_curated')),
        ('curated', 'machine_learning_curated', ref('machine_learning_curated')),
    ] -%}
    {%- set count_queries = [] -%}
    {%- for zone, name, relation in tables -%}
        {%- do count_queries.append(
            "select '" ~ zone ~ "' as zone, '" ~ name ~ "' as table_name, "
            ~ loop.index ~ " as position, count(*) as row_count from " ~ relation) -%}
    {%- endfor -%}
    {%- set counts = run_query(
        count_queries | join('\nunion all\n') ~ '\norder by position') -%}

    {%- set screens = [
        ('customer', ref('customer_screened')),
        ('accelerometer', ref('accelerometer_screened')),
        ('step_trainer', ref('step_trainer_screened')),
    ] -%}
    {%- set reason_queries = [] -%}
    {%- for data_set, relation in screens -%}
        {%- do reason_queries.append(
            "select '" ~ data_set ~ "' as data_set, " ~ loop.index
            ~ " as position, coalesce(exclusion_reason, '(admitted)') as rule,"
            ~ " count(*) as row_count from " ~ relation
            ~ " group by exclusion_reason") -%}
    {%- endfor -%}
    {%- set reasons = run_query(
        reason_queries | join('\nunion all\n') ~ '\norder by position, rule') -%}

    {%- set rows_by_table = {} -%}
    {%- for row in counts.rows -%}
        {%- do rows_by_table.update({row['table_name']: row['row_count'] | int}) -%}
    {%- endfor -%}

    {%- do print('') -%}
    {%- do print('STEDI lakehouse: rows per zone (target ' ~ target.name ~ ')') -%}
    {%- do print('  %-8s %-26s %12s' | format('zone', 'table', 'rows')) -%}
    {%- for row in counts.rows -%}
        {%- do print('  %-8s %-26s %12s' | format(
            row['zone'], row['table_name'], '{:,}'.format(row['row_count'] | int))) -%}
    {%- endfor -%}

    {%- do print('') -%}
    {%- do print('Landing rows kept out of trusted, by rule') -%}
    {%- do print('  %-14s %-26s %12s' | format('data set', 'rule', 'rows')) -%}
    {%- for row in reasons.rows -%}
        {%- do print('  %-14s %-26s %12s' | format(
            row['data_set'], row['rule'], '{:,}'.format(row['row_count'] | int))) -%}
    {%- endfor -%}

    {%- do print('') -%}
    {%- do print('Trusted rows not carried into curated') -%}
    {%- do print('  %-50s %8s' | format(
        'customer_trusted without a trusted reading',
        '{:,}'.format(rows_by_table['customer_trusted'] - rows_by_table['customers_curated']))) -%}
    {%- do print('  %-50s %8s' | format(
        'accelerometer readings without a device reading',
        '{:,}'.format(rows_by_table['accelerometer_trusted'] - rows_by_table['machine_learning_curated']))) -%}
    {%- do print('') -%}
    {{ return('') }}
{% endmacro %}
