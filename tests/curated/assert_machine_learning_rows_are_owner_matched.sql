-- Every machine_learning_curated row is an accelerometer_trusted reading of a
-- customer whose device has the row's device key, paired with that device's
-- step_trainer_trusted reading at the same instant. Returns the rows that are
-- not.
with

training_rows as (
    select * from {{ ref('machine_learning_curated') }}
),

customers as (
    select * from {{ ref('customer_trusted') }}
),

accelerometer_readings as (
    select * from {{ ref('accelerometer_trusted') }}
),

step_trainer_readings as (
    select * from {{ ref('step_trainer_trusted') }}
),

customer_devices as (
    -- one HMAC per customer rather than per reading
    select
        email,
        serial_number,
        {{ pseudonymous_key('serial_number', 'device') }} as device_key
    from customers
),

device_keys as (
    select distinct
        serial_number,
        device_key
    from customer_devices
),

device_readings as (
    select
        device_keys.device_key,
        step_trainer_readings.sensor_reading_time_ms,
        step_trainer_readings.distance_from_object
    from step_trainer_readings
    inner join device_keys
        on step_trainer_readings.serial_number = device_keys.serial_number
),

owner_readings as (
    select
        customer_devices.device_key,
        accelerometer_readings.reading_time_ms,
        accelerometer_readings.x,
        accelerometer_readings.y,
        accelerometer_readings.z
    from accelerometer_readings
    inner join customer_devices
        on accelerometer_readings.user_email = customer_devices.email
),

checked as (
    select
        training_rows.device_key,
        training_rows.reading_time_ms,
        training_rows.x,
        training_rows.y,
        training_rows.z,
        training_rows.distance_from_object,
        owner_readings.device_key is not null as has_owner_reading,
        device_readings.device_key is not null as has_device_reading
    from training_rows
    left join owner_readings
        on
            training_rows.device_key = owner_readings.device_key
            and training_rows.reading_time_ms = owner_readings.reading_time_ms
            and training_rows.x = owner_readings.x
            and training_rows.y = owner_readings.y
            and training_rows.z = owner_readings.z
    left join device_readings
        on
            training_rows.device_key = device_readings.device_key
            and training_rows.reading_time_ms
            = device_readings.sensor_reading_time_ms
            and training_rows.distance_from_object
            = device_readings.distance_from_object
)

select * from checked
where not has_owner_reading or not has_device_reading
