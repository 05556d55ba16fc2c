-- Every landing accelerometer reading, typed and normalized, with its
-- verdict: exclusion_reason is null for the readings admitted to
-- accelerometer_trusted, else the first rule it fails, privacy rules first.
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

renamed as (
    select
        -- keys
        {{ normalize_email(adapter.quote('user')) }} as user_email,
        {{ adapter.quote('timestamp') }} as reading_time_ms,

        -- measures
        x,
        y,
        z,

        -- timestamps
        {{ epoch_ms_to_timestamp(adapter.quote('timestamp')) }} as reading_at

    from source_readings
),

numbered as (
    select
        *,
        -- copies of one reading, e.g. from a file delivered twice
        row_number() over (
            partition by user_email, reading_time_ms, x, y, z
            order by reading_time_ms asc
        ) as copy_number
    from renamed
),

known_emails as (
    select distinct email from customer_records
),

with_owner as (
    select
        numbered.*,
        consented_customers.research_consent_ms,
        known_emails.email is not null as is_known_customer
    from numbered
    left join known_emails
        on numbered.user_email = known_emails.email
    left join consented_customers
        on numbered.user_email = consented_customers.email
),

screened as (
    select
        *,
        case
            when
                user_email is null
                or reading_time_ms is null
                or x is null
                or y is null
                or z is null
                then 'incomplete'
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
