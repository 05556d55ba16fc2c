-- Every landing accelerometer reading, parsed and normalized, with its
-- verdict: exclusion_reason is null for the readings admitted to
-- accelerometer_trusted, else the first rule it fails.
with

source_readings as (
    select * from {{ source('landing', 'accelerometer') }}
),

customer_records as (
    select * from {{ ref('customer_screened') }}
),

consented_customers as (
    select * from {{ ref('customer_trusted') }}
),

parsed as (
    select
        -- as delivered
        {{ adapter.quote('user') }} as raw_user,
        {{ adapter.quote('timestamp') }} as raw_timestamp,
        x as raw_x,
        y as raw_y,
        z as raw_z,

        -- keys
        {{ normalize_email(adapter.quote('user')) }} as user_email,
        {{ parse_bigint(adapter.quote('timestamp')) }} as reading_time_ms,

        -- measures
        {{ parse_double('x') }} as x,
        {{ parse_double('y') }} as y,
        {{ parse_double('z') }} as z

    from source_readings
),

typed as (
    select
        *,
        {{ epoch_ms_to_timestamp('reading_time_ms') }} as reading_at
    from parsed
),

numbered as (
    select
        *,
        -- copies of one reading, e.g. from a file delivered twice
        row_number() over (
            partition by user_email, reading_time_ms, x, y, z
            order by reading_time_ms asc
        ) as copy_number
    from typed
),

known_emails as (
    select distinct email from customer_records
),

erased_emails as (
    select distinct email
    from customer_records
    where exclusion_reason = 'erased'
),

with_owner as (
    select
        numbered.*,
        consented_customers.research_consent_ms,
        known_emails.email is not null as is_known_customer,
        erased_emails.email is not null as is_erased
    from numbered
    left join known_emails
        on numbered.user_email = known_emails.email
    left join consented_customers
        on numbered.user_email = consented_customers.email
    left join erased_emails
        on numbered.user_email = erased_emails.email
),

screened as (
    select
        *,
        case
            when coalesce(raw_user, raw_timestamp, raw_x, raw_y, raw_z) is null
                then 'malformed'
            -- before any other rule: every reading of an erased customer
            when is_erased then 'erased'
            when
                user_email is null or user_email = ''
                or raw_timestamp is null
                or raw_x is null
                or raw_y is null
                or raw_z is null
                then 'missing_field'
            when
                reading_time_ms is null
                or x is null
                or y is null
                or z is null
                then 'invalid_value'
            when not {{ plausible_reading_time('reading_time_ms') }}
                then 'implausible_time'
            when
                abs(x) > {{ var('max_abs_acceleration') }}
                or abs(y) > {{ var('max_abs_acceleration') }}
                or abs(z) > {{ var('max_abs_acceleration') }}
                then 'out_of_range'
            when not is_known_customer then 'unknown_customer'
            when research_consent_ms is null then 'no_research_consent'
            {% if consent_date_enforced() -%}
            when reading_time_ms < research_consent_ms
                then 'before_research_consent'
            {% endif -%}
            when copy_number > 1 then 'duplicate'
        end as exclusion_reason
    from with_owner
)

select * from screened
