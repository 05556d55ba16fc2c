{% test is_pseudonymous_key(model, column_name) %}
{#- Fails with every value of the column that is no pseudonymous key: not
    64 lower-case hex digits (an HMAC-SHA256), or equal to an identifier of
    the landing customer records (an e-mail as delivered or normalized, a
    serial number as keyed) or to its unkeyed SHA-256. A key that fell back
    to the identifier, or to a plain hash of it that anyone can recompute,
    passes every test of column names; this one reads the values. The
    failing rows name the problem, never the value. -#}
with

customer_records as (
    -- parsed once, in a table
    select * from {{ ref('customer_screened') }}
),

keys as (
    select {{ column_name }} as key_value
    from {{ model }}
    where {{ column_name }} is not null
),

identifiers as (
    select raw_email as identifier from customer_records
    union
    select email as identifier from customer_records
    union
    select serial_number as identifier from customer_records
),

identifier_forms as (
    select identifier as identifier_form
    from identifiers
    where identifier is not null

    union

    select {{ sha256_hex('identifier') }} as identifier_form
    from identifiers
    where identifier is not null
),

failures as (
    select 'not 64 lower-case hex digits' as problem
    from keys
    where not regexp_like(key_value, '^[0-9a-f]{64}$')

    union all

    select 'a raw identifier or its unkeyed SHA-256' as problem
    from keys
    inner join identifier_forms
        on keys.key_value = identifier_forms.identifier_form
)

select * from failures
{% endtest %}
