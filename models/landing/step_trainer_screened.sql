-- Every landing step-trainer reading, parsed, with its verdict:
-- exclusion_reason is null for the readings admitted to step_trainer_trusted,
-- else the first rule it fails.
with

source_readings as (
    select * from {{ source('landing', 'step_trainer') }}
),

customer_records as (
    select * from {{ ref('customer_screened') }}
),

consented_customers as (
    select * from {{ ref('customer_trusted') }}
),

trusted_readings as (
    select * from {{ ref('accelerometer_trusted') }}
),

parsed as (
    select
        -- as delivered
        serialnumber as raw_serial_number,
        sensorreadingtime as raw_sensor_reading_time,
        distancefromobject as raw_distance_from_object,

        -- keys
        serialnumber as serial_number,
        {{ parse_bigint('sensorreadingtime') }} as sensor_reading_time_ms,

        -- measures
        {{ parse_double('distancefromobject') }} as distance_from_object

    from source_readings
),

typed as (
    select
        *,
        {{ epoch_ms_to_timestamp('sensor_reading_time_ms') }} as sensor_reading_at
    from parsed
),

numbered as (
    select
        *,
        -- copies of one reading, e.g. from a file delivered twice
        row_number() over (
            partition by
                serial_number, sensor_reading_time_ms, distance_from_object
            order by sensor_reading_time_ms asc
        ) as copy_number
    from typed
),

device_owners as (
    -- who holds each device now: the current record of every e-mail. A
    -- device held by several customers cannot be attributed to one person.
    select
        serial_number,
        count(distinct email) as owner_count
    from customer_records
    where email_record_rank = 1 and email is not null and email != ''
    group by serial_number
),

erased_devices as (
    -- devices whose current holder asked to be forgotten
    select distinct serial_number
    from customer_records
    where email_record_rank = 1 and exclusion_reason = 'erased'
),

customers_with_readings as (
    select distinct user_email
    from trusted_readings
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

with_device as (
    select
        numbered.*,
        curated_devices.research_consent_ms,
        coalesce(device_owners.owner_count, 0) as owner_count,
        erased_devices.serial_number is not null as is_erased
    from numbered
    left join device_owners
        on numbered.serial_number = device_owners.serial_number
    left join curated_devices
        on numbered.serial_number = curated_devices.serial_number
    left join erased_devices
        on numbered.serial_number = erased_devices.serial_number
),

screened as (
    select
        *,
        case
            when
                coalesce(
                    raw_serial_number,
                    raw_sensor_reading_time,
                    raw_distance_from_object
                ) is null
                then 'malformed'
            -- before any other rule: every reading of an erased customer's
            -- device
            when is_erased then 'erased'
            when
                serial_number is null or serial_number = ''
                or raw_sensor_reading_time is null
                or raw_distance_from_object is null
                then 'missing_field'
            when sensor_reading_time_ms is null or distance_from_object is null
                then 'invalid_value'
            when not {{ plausible_reading_time('sensor_reading_time_ms') }}
                then 'implausible_time'
            when
                distance_from_object < 0
                or distance_from_object > {{ var('max_distance_from_object') }}
                then 'out_of_range'
            when owner_count = 0 then 'unknown_device'
            when owner_count > 1 then 'ambiguous_device'
            when research_consent_ms is null then 'device_not_curated'
            {% if consent_date_enforced() -%}
            when sensor_reading_time_ms < research_consent_ms
                then 'before_research_consent'
            {% endif -%}
            when copy_number > 1 then 'duplicate'
        end as exclusion_reason
    from with_device
)

select * from screened
