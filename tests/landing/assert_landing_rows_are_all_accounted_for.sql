-- For each data set: landing records = trusted rows + rejected rows (each
-- with its reason). A landing record is a delivered line of a data file
-- that is not blank (the landing rulebook's record views,
-- int_<data set>_records). Returns the data sets where rows
-- appeared or went missing.
{%- set data_sets = ['customer', 'accelerometer', 'step_trainer'] %}
with

accounts as (
    {%- for data_set in data_sets %}
    select
        '{{ data_set }}' as data_set,
        (
            select count(*) as n from {{ ref('int_' ~ data_set ~ '_records') }}
        ) as landing_rows,
        (select count(*) as n from {{ ref(data_set ~ '_trusted') }}) as trusted_rows,
        (select count(*) as n from {{ ref(data_set ~ '_rejected') }}) as rejected_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from accounts
where landing_rows != trusted_rows + rejected_rows
