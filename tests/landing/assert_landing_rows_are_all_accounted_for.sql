-- For each data set: landing rows = trusted rows + rejected rows (each with
-- its reason). Returns the data sets where rows appeared or went missing.
with

accounts as (
    {%- for data_set in ['customer', 'accelerometer', 'step_trainer'] %}
    select
        '{{ data_set }}' as data_set,
        (select count(*) as n from {{ source('landing', data_set) }}) as landing_rows,
        (select count(*) as n from {{ ref(data_set ~ '_trusted') }}) as trusted_rows,
        (select count(*) as n from {{ ref(data_set ~ '_rejected') }}) as rejected_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from accounts
where landing_rows != trusted_rows + rejected_rows
