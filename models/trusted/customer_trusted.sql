with

screened_customers as (
    select * from {{ ref('customer_screened') }}
),

admitted as (
    select
        -- identity
        email,
        customer_name,
        phone,
        birth_day,
        serial_number,

        -- epoch-millisecond dates
        registration_ms,
        last_update_ms,
        research_consent_ms,
        public_consent_ms,
        friends_consent_ms,

        -- timestamps
        registration_at,
        last_update_at,
        research_consent_at,
        public_consent_at,
        friends_consent_at

    from screened_customers
    where exclusion_reason is null
)

select * from admitted
