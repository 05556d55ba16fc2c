{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- Fails with one row per combination of the given columns that occurs more
    than once. -#}
with

grouped as (
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
)

select * from grouped
where occurrences > 1
{% endtest %}
