{% test trusted_customers_have_current_research_consent(model) %}
{#- Fails with every customer in the model whose current landing record (the
    latest updated one of the normalized e-mail) lacks research consent, or
    who has no landing record with consent at all. Recomputed from the raw
    landing records (the landing rulebook's parse), independently of the
    screening models. -#}
with

customer_records as (
    select * from {{ ref('int_customer_records') }}
),

landing_records as (
    -- the records as the landing rulebook reads them; every other step is
    -- recomputed here
    select
        {{ normalize_email('raw_email') }} as email,
        {{ parse_bigint('raw_last_update_date') }} as last_update_ms,
        raw_research_consent as research_consent_ms
    from customer_records
    where not is_malformed
),

latest_updates as (
    select
        email,
        max(last_update_ms) as last_update_ms
    from landing_records
    group by email
),

current_without_consent as (
    select distinct landing_records.email
    from landing_records
    inner join latest_updates
        on
            landing_records.email = latest_updates.email
            and landing_records.last_update_ms = latest_updates.last_update_ms
    where landing_records.research_consent_ms is null
),

ever_consented as (
    select distinct email
    from landing_records
    where research_consent_ms is not null
),

customers as (
    select
        model_rows.email,
        model_rows.research_consent_ms,
        current_without_consent.email is not null as has_withdrawn_consent,
        ever_consented.email is not null as has_consented
    from {{ model }} as model_rows
    left join current_without_consent
        on model_rows.email = current_without_consent.email
    left join ever_consented
        on model_rows.email = ever_consented.email
)

select * from customers
where
    research_consent_ms is null
    or has_withdrawn_consent
    or not has_consented
{% endtest %}
