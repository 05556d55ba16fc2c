with

customers as (
    select * from {{ ref('customer_trusted') }}
),

readings as (
    select * from {{ ref('accelerometer_trusted') }}
),

readings_per_customer as (
    select
        user_email,
        count(*) as accelerometer_reading_count,
        min(reading_time_ms) as first_reading_time_ms,
        max(reading_time_ms) as last_reading_time_ms
    from readings
    group by user_email
),

customers_with_readings as (
    select
        -- identity
        customers.email,
        customers.customer_name,
        customers.phone,
        customers.birth_day,
        customers.serial_number,

        -- epoch-millisecond dates
        customers.registration_ms,
        customers.last_update_ms,
        customers.research_consent_ms,
        customers.public_consent_ms,
        customers.friends_consent_ms,

        -- timestamps
        customers.registration_at,
        customers.last_update_at,
        customers.research_consent_at,
        customers.public_consent_at,
        customers.friends_consent_at,

        -- accelerometer activity
        readings_per_customer.accelerometer_reading_count,
        readings_per_customer.first_reading_time_ms,
        readings_per_customer.last_reading_time_ms

    from customers
    inner join readings_per_customer
        on customers.email = readings_per_customer.user_email
)

select * from customers_with_readings
