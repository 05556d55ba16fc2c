-- Accelerometer readings paired with the step-trainer reading of the same
-- customer's device at the same instant. Pairing on the instant alone would
-- pair different customers whose readings share a millisecond.
with

accelerometer_readings as (
    select * from {{ ref('accelerometer_trusted') }}
),

customer_devices as (
    select
        email,
        serial_number
    from {{ ref('customers_curated') }}
),

step_trainer_readings as (
    select * from {{ ref('step_trainer_trusted') }}
),

readings_with_device as (
    select
        accelerometer_readings.reading_time_ms,
        accelerometer_readings.reading_at,
        accelerometer_readings.x,
        accelerometer_readings.y,
        accelerometer_readings.z,
        customer_devices.serial_number
    from accelerometer_readings
    inner join customer_devices
        on accelerometer_readings.user_email = customer_devices.email
),

owner_matched as (
    select
        -- keys
        readings_with_device.serial_number,
        readings_with_device.reading_time_ms,

        -- measures
        readings_with_device.x,
        readings_with_device.y,
        readings_with_device.z,
        step_trainer_readings.distance_from_object,

        -- timestamps
        readings_with_device.reading_at

    from readings_with_device
    inner join step_trainer_readings
        on
            readings_with_device.serial_number
            = step_trainer_readings.serial_number
            and readings_with_device.reading_time_ms
            = step_trainer_readings.sensor_reading_time_ms
)

select * from owner_matched
