-- Every landing customer record, parsed and normalized, with its verdict:
-- exclusion_reason is null for the records admitted to customer_trusted,
-- else the first rule the record fails. A record of a customer who asked to
-- be forgotten keeps only the request's hash, the reason and the file.
with

customer_records as (
    select * from {{ ref('int_customer_records') }}
),

erasure_requests as (
    -- a request may be listed twice; one row per hash
    select distinct email_sha256
    from {{ ref('erasure_requests') }}
),

erasure_decided as (
    -- first of all, and also for a line that cannot be parsed: whether its
    -- customer asked to be forgotten
    select
        customer_records.*,
        erasure_requests.email_sha256 as erasure_request_sha256
    from customer_records
    left join erasure_requests
        on
            {{ erasure_request_of(
                'customer_records.raw_email', 'customer_records.line_as_delivered') }}
            = erasure_requests.email_sha256
),

forgotten as (
    select
        {{ unless_erased([
            'raw_customer_name', 'raw_email', 'raw_phone', 'raw_birth_day',
            'raw_serial_number', 'raw_registration_date', 'raw_last_update_date',
            'raw_research_consent', 'raw_public_consent', 'raw_friends_consent',
            'line_as_delivered']) }}
    from erasure_decided
),

parsed as (
    select
        -- as delivered
        {{ landing_record_columns() }},
        raw_customer_name,
        raw_email,
        raw_registration_date,
        raw_last_update_date,
        raw_research_consent,
        raw_public_consent,
        raw_friends_consent,

        -- identity
        {{ normalize_email('raw_email') }} as email,
        raw_customer_name as customer_name,
        raw_phone as phone,
        raw_birth_day as birth_day,
        {{ trim_whitespace('raw_serial_number') }} as serial_number,

        -- epoch-millisecond dates, kept exact for joins and comparisons
        {{ parse_bigint('raw_registration_date') }} as registration_ms,
        {{ parse_bigint('raw_last_update_date') }} as last_update_ms,
        {{ parse_bigint('raw_research_consent') }} as research_consent_ms,
        {{ parse_bigint('raw_public_consent') }} as public_consent_ms,
        {{ parse_bigint('raw_friends_consent') }} as friends_consent_ms,

        erasure_request_sha256

    from forgotten
),

typed as (
    select
        *,
        (raw_registration_date is not null and registration_ms is null)
        or (raw_last_update_date is not null and last_update_ms is null)
        or (raw_research_consent is not null and research_consent_ms is null)
        or (raw_public_consent is not null and public_consent_ms is null)
        or (raw_friends_consent is not null and friends_consent_ms is null)
            as has_invalid_value,

        -- the same dates as timestamps
        {{ epoch_ms_to_timestamp('registration_ms') }} as registration_at,
        {{ epoch_ms_to_timestamp('last_update_ms') }} as last_update_at,
        {{ epoch_ms_to_timestamp('research_consent_ms') }} as research_consent_at,
        {{ epoch_ms_to_timestamp('public_consent_ms') }} as public_consent_at,
        {{ epoch_ms_to_timestamp('friends_consent_ms') }} as friends_consent_at
    from parsed
),

ranked as (
    select
        *,
        -- records without an e-mail (an erased record keeps none) are
        -- not ranked: nothing would order them the same on every engine
        case
            when email is not null
                then row_number() over (
                    partition by email
                    order by
                        last_update_ms desc nulls last,
                        -- on a tie, the record without consent wins: never assume
                        -- a consent that the latest state may not carry
                        case when research_consent_ms is null then 0 else 1 end asc,
                        research_consent_ms asc nulls first,
                        -- the rest only makes the order total, so that every
                        -- engine ranks the same record first
                        serial_number asc nulls first,
                        customer_name asc nulls first,
                        registration_ms asc nulls first,
                        raw_email asc nulls first,
                        phone asc nulls first,
                        birth_day asc nulls first,
                        raw_registration_date asc nulls first,
                        raw_last_update_date asc nulls first,
                        raw_research_consent asc nulls first,
                        raw_public_consent asc nulls first,
                        raw_friends_consent asc nulls first,
                        landing_file asc nulls first,
                        line_as_delivered asc nulls first
                )
        end as email_record_rank
    from typed
),

screened as (
    select
        *,
        case
            -- before any other rule: every record of an erased customer
            when erasure_request_sha256 is not null then 'erased'
            when is_malformed then 'malformed'
            -- an object or array where a value is expected
            when has_non_scalar_value then 'invalid_value'
            when email is null or email = '' then 'missing_email'
            when email_record_rank > 1 then 'superseded_record'
            -- an unreadable date may be an unreadable consent: keep it out
            when has_invalid_value then 'invalid_value'
            when research_consent_ms is null then 'no_research_consent'
        end as exclusion_reason
    from ranked
)

select * from screened
