-- Every landing customer record, typed and normalized, with its verdict:
-- exclusion_reason is null for the records admitted to customer_trusted,
-- else the first rule the record fails.
with

source_customers as (
    select * from {{ source('landing', 'customer') }}
),

renamed as (
    select
        -- identity
        {{ normalize_email('email') }} as email,
        customername as customer_name,
        phone,
        birthday as birth_day,
        serialnumber as serial_number,

        -- epoch-millisecond dates, kept exact for joins and comparisons
        registrationdate as registration_ms,
        lastupdatedate as last_update_ms,
        sharewithresearchasofdate as research_consent_ms,
        sharewithpublicasofdate as public_consent_ms,
        sharewithfriendsasofdate as friends_consent_ms,

        -- the same dates as timestamps
        {{ epoch_ms_to_timestamp('registrationdate') }} as registration_at,
        {{ epoch_ms_to_timestamp('lastupdatedate') }} as last_update_at,
        {{ epoch_ms_to_timestamp('sharewithresearchasofdate') }}
            as research_consent_at,
        {{ epoch_ms_to_timestamp('sharewithpublicasofdate') }}
            as public_consent_at,
        {{ epoch_ms_to_timestamp('sharewithfriendsasofdate') }}
            as friends_consent_at

    from source_customers
),

ranked as (
    select
        *,
        row_number() over (
            partition by email
            order by
                last_update_ms desc nulls last,
                -- on a tie, the record without consent wins: never assume
                -- a consent that the latest state may not carry
                case when research_consent_ms is null then 0 else 1 end,
                research_consent_ms asc,
                serial_number asc,
                customer_name asc,
                registration_ms asc
        ) as email_record_rank
    from renamed
),

screened as (
    select
        *,
        case
            when email is null or email = '' then 'missing_email'
            when email_record_rank > 1 then 'superseded_record'
            when research_consent_ms is null then 'no_research_consent'
        end as exclusion_reason
    from ranked
)

select * from screened
