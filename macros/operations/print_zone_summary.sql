{% macro print_zone_summary(engine=none) %}
    {#- Prints the rows in every landing, trusted and curated table and how
        many rows each rule kept out of the trusted zone. Run after a build:
        dbt run-operation print_zone_summary -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}

    {#- a landing table's rows are its records: the lines of its data files
        that are not blank (int_<data set>_records) -#}
    {%- set tables = [
        ('landing', 'customer', ref('int_customer_records')),
        ('landing', 'accelerometer', ref('int_accelerometer_records')),
        ('landing', 'step_trainer', ref('int_step_trainer_records')),
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
        ('customer', ref('customer_trusted'), ref('customer_rejected')),
        ('accelerometer', ref('accelerometer_trusted'), ref('accelerometer_rejected')),
        ('step_trainer', ref('step_trainer_trusted'), ref('step_trainer_rejected')),
    ] -%}
    {%- set reason_queries = [] -%}
    {%- for data_set, trusted, rejected in screens -%}
        {%- do reason_queries.append(
            "select '" ~ data_set ~ "' as data_set, " ~ loop.index
            ~ " as position, '(trusted)' as rule, count(*) as row_count from " ~ trusted) -%}
        {%- do reason_queries.append(
            "select '" ~ data_set ~ "' as data_set, " ~ loop.index
            ~ " as position, exclusion_reason as rule, count(*) as row_count from "
            ~ rejected ~ " group by exclusion_reason") -%}
    {%- endfor -%}
    {%- set reasons = run_query(
        reason_queries | join('\nunion all\n') ~ '\norder by position, rule') -%}

    {%- set rows_by_table = {} -%}
    {%- for row in counts.rows -%}
        {%- do rows_by_table.update({row['table_name']: row['row_count'] | int}) -%}
    {%- endfor -%}

    {%- do print('') -%}
    {%- do print('STEDI lakehouse: rows per zone (target ' ~ target.name
        ~ (' on ' ~ engine if engine else '') ~ ')') -%}
    {%- do print('  %-8s %-26s %12s' | format('zone', 'table', 'rows')) -%}
    {%- for row in counts.rows -%}
        {%- do print('  %-8s %-26s %12s' | format(
            row['zone'], row['table_name'], '{:,}'.format(row['row_count'] | int))) -%}
    {%- endfor -%}

    {%- do print('') -%}
    {%- do print('Row accounting: landing = trusted + rejected (by reason)') -%}
    {%- do print('  %-14s %-34s %10s' | format('data set', 'rows', 'count')) -%}
    {%- set accounted = {} -%}
    {%- for row in reasons.rows -%}
        {%- do accounted.update({row['data_set']:
            accounted.get(row['data_set'], 0) + (row['row_count'] | int)}) -%}
    {%- endfor -%}
    {%- for data_set in ['customer', 'accelerometer', 'step_trainer'] -%}
        {%- do print('  %-14s %-34s %10s' | format(
            data_set, 'landing', '{:,}'.format(rows_by_table[data_set]))) -%}
        {%- for row in reasons.rows if row['data_set'] == data_set -%}
            {%- set label = row['rule'] if row['rule'] == '(trusted)'
                else 'rejected: ' ~ row['rule'] -%}
            {%- do print('  %-14s %-34s %10s' | format(
                '', label, '{:,}'.format(row['row_count'] | int))) -%}
        {%- endfor -%}
        {%- set balance = 'balanced' if accounted.get(data_set, 0) == rows_by_table[data_set]
            else 'UNBALANCED: ' ~ (rows_by_table[data_set] - accounted.get(data_set, 0)) ~ ' rows unaccounted' -%}
        {%- do print('  %-14s %-34s %10s' | format('', '= ' ~ balance, '')) -%}
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
