-- Every landing step-trainer reading, typed, with its verdict:
-- exclusion_reason is null for the readings admitted to step_trainer_trusted,
-- else the first rule it fails, privacy rules first.
with

source_readings as (
    select * from {{ source('landing', 'step_trainer') }}
),

customer_records as (
    select * from {{ ref('customer_screened') }}
),

curated_customers as (
    select * from {{ ref('customers_curated') }}
),

renamed as (
    select
        -- keys
        serialnumber as serial_number,
        sensorreadingtime as sensor_reading_time_ms,

        -- measures
        distancefromobject as distance_from_object,

        -- timestamps
        {{ epoch_ms_to_timestamp('sensorreadingtime') }} as sensor_reading_at

    from source_readings
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
    from renamed
),

known_devices as (
    select distinct serial_number from customer_records
),

curated_devices as (
    -- a device registered to several curated customers counts only from the
    -- latest of their consents: no reading predates any owner's consent
    select
        serial_number,
        max(research_consent_ms) as research_consent_ms
    from curated_customers
    group by serial_number
),

with_device as (
    select
        numbered.*,
        curated_devices.research_consent_ms,
        known_devices.serial_number is not null as is_known_device
    from numbered
    left join known_devices
        on numbered.serial_number = known_devices.serial_number
    left join curated_devices
        on numbered.serial_number = curated_devices.serial_number
),

screened as (
    select
        *,
        case
            when
                serial_number is null
                or sensor_reading_time_ms is null
                or distance_from_object is null
                then 'incomplete'
            when not is_known_device then 'unknown_device'
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
