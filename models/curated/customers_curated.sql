-- Customers in customer_trusted with at least one accelerometer_trusted
-- reading, under pseudonymous keys: no e-mail, name, phone, birthday or
-- serial number leaves the trusted zone.
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
        -- pseudonymous keys
        {{ pseudonymous_key('customers.email', 'customer') }} as customer_key,
        {{ pseudonymous_key('customers.serial_number', 'device') }} as device_key,

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
