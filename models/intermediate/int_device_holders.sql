-- The device-holder rule: what the screening of a step-trainer reading needs
-- to know about its device. One row per serial number on a customer's current
-- record; a reading whose serial number has no row here is of an unknown
-- device. A device held by several customers cannot be attributed to one
-- person (owner_count > 1); curated devices are held by one. Every device on
-- any record of a customer who asked to be forgotten, now or before, is
-- erased, with all its readings: a reading cannot be told to be of one
-- holder or another (docs/privacy.md).
with

customer_records as (
    select * from {{ ref('customer_screened') }}
),

customer_lines as (
    -- as delivered: the screened records of an erased customer keep no
    -- serial number
    select * from {{ ref('int_customer_records') }}
),

erasure_requests as (
    select distinct email_sha256
    from {{ ref('erasure_requests') }}
),

consented_customers as (
    select * from {{ ref('customer_trusted') }}
),

accelerometer_verdicts as (
    -- the verdicts accelerometer_trusted copies its readings from: read
    -- here, step_trainer_screened need not wait for that copy and its tests
    select * from {{ ref('accelerometer_screened') }}
),

device_owners as (
    -- who holds each device now: the current record of every e-mail
    select
        serial_number,
        count(distinct email) as owner_count
    from customer_records
    where
        email_record_rank = 1
        and email is not null and email != ''
        and serial_number is not null
    group by serial_number
),

erased_devices as (
    -- the devices on any record of a customer who asked to be forgotten
    select
        {{ trim_whitespace('customer_lines.raw_serial_number') }} as serial_number,
        -- one request when several erased customers held the device
        min(erasure_requests.email_sha256) as erasure_request_sha256
    from customer_lines
    inner join erasure_requests
        on
            {{ erasure_hash('customer_lines.raw_email') }}
            = erasure_requests.email_sha256
    where {{ trim_whitespace('customer_lines.raw_serial_number') }} != ''
    group by {{ trim_whitespace('customer_lines.raw_serial_number') }}
),

customers_with_readings as (
    -- the customers with trusted readings (accelerometer_trusted's rows)
    select distinct user_email
    from accelerometer_verdicts
    where exclusion_reason is null
),

curated_devices as (
    -- the devices of customers_curated (consented customers with trusted
    -- readings), one row per device so that no reading is counted twice
    select
        consented_customers.serial_number,
        max(consented_customers.research_consent_ms) as research_consent_ms
    from consented_customers
    inner join customers_with_readings
        on consented_customers.email = customers_with_readings.user_email
    group by consented_customers.serial_number
),

devices as (
    select serial_number from device_owners
    union
    select serial_number from erased_devices
),

final as (
    select
        devices.serial_number,
        coalesce(device_owners.owner_count, 0) as owner_count,
        erased_devices.serial_number is not null as is_erased,
        erased_devices.erasure_request_sha256,
        -- null when the device has no curated holder
        curated_devices.research_consent_ms
    from devices
    left join device_owners
        on devices.serial_number = device_owners.serial_number
    left join curated_devices
        on devices.serial_number = curated_devices.serial_number
    left join erased_devices
        on devices.serial_number = erased_devices.serial_number
)

select * from final
