-- Accelerometer readings paired with the step-trainer reading of the same
-- customer's device at the same instant. Pairing on the instant alone would
-- pair different customers whose readings share a millisecond. The device
-- appears only under its pseudonymous key.
--
-- Incremental: a run rebuilds the reading dates that either screening model
-- rescreened since this table's newest verdict (a pairing needs both
-- readings of one instant, hence of one date).
-- depends_on: {{ ref('accelerometer_screened') }}
-- depends_on: {{ ref('step_trainer_screened') }}
{%- set rebuilt_dates = reading_dates_to_rebuild(
    ['accelerometer_screened', 'step_trainer_screened']
) %}

with

accelerometer_readings as (
    select * from {{ ref('accelerometer_trusted') }}
    {%- if is_incremental_with_state() %}
    where {{ reading_date_in(rebuilt_dates) }}
    {%- endif %}
),

customers as (
    select * from {{ ref('customer_trusted') }}
),

step_trainer_readings as (
    select * from {{ ref('step_trainer_trusted') }}
    {%- if is_incremental_with_state() %}
    where {{ reading_date_in(rebuilt_dates) }}
    {%- endif %}
),

readings_with_device as (
    select
        accelerometer_readings.reading_time_ms,
        accelerometer_readings.reading_at,
        accelerometer_readings.x,
        accelerometer_readings.y,
        accelerometer_readings.z,
        accelerometer_readings.screened_at,
        accelerometer_readings.reading_date,
        customers.serial_number
    from accelerometer_readings
    inner join customers
        on accelerometer_readings.user_email = customers.email
),

owner_matched as (
    select
        readings_with_device.serial_number,
        readings_with_device.reading_time_ms,
        readings_with_device.x,
        readings_with_device.y,
        readings_with_device.z,
        step_trainer_readings.distance_from_object,
        readings_with_device.reading_at,
        readings_with_device.reading_date,
        -- the later of the two verdicts
        case
            when readings_with_device.screened_at > step_trainer_readings.screened_at
                then readings_with_device.screened_at
            else step_trainer_readings.screened_at
        end as screened_at
    from readings_with_device
    inner join step_trainer_readings
        on
            readings_with_device.serial_number
            = step_trainer_readings.serial_number
            and readings_with_device.reading_time_ms
            = step_trainer_readings.sensor_reading_time_ms
),

devices as (
    select distinct serial_number
    from owner_matched
),

device_keys as (
    -- one HMAC per device rather than per reading
    select
        serial_number,
        {{ pseudonymous_key('serial_number', 'device') }} as device_key
    from devices
),

training_rows as (
    select
        -- keys
        device_keys.device_key,
        owner_matched.reading_time_ms,

        -- measures
        owner_matched.x,
        owner_matched.y,
        owner_matched.z,
        owner_matched.distance_from_object,

        -- timestamps
        owner_matched.reading_at,
        owner_matched.screened_at,

        -- partition
        owner_matched.reading_date

    from owner_matched
    inner join device_keys
        on owner_matched.serial_number = device_keys.serial_number
)

select * from training_rows
