-- Every machine_learning_curated row is an accelerometer_trusted reading of a
-- customer whose device is the row's serial number, paired with that device's
-- step_trainer_trusted reading at the same instant. Returns the rows that are
-- not.
with

training_rows as (
    select * from {{ ref('machine_learning_curated') }}
),

customers as (
    select * from {{ ref('customers_curated') }}
),

accelerometer_readings as (
    select * from {{ ref('accelerometer_trusted') }}
),

step_trainer_readings as (
    select * from {{ ref('step_trainer_trusted') }}
),

owner_readings as (
    select
        customers.serial_number,
        accelerometer_readings.reading_time_ms,
        accelerometer_readings.x,
        accelerometer_readings.y,
        accelerometer_readings.z
    from accelerometer_readings
    inner join customers
        on accelerometer_readings.user_email = customers.email
),

checked as (
    select
        training_rows.serial_number,
        training_rows.reading_time_ms,
        training_rows.x,
        training_rows.y,
        training_rows.z,
        training_rows.distance_from_object,
        owner_readings.serial_number is not null as has_owner_reading,
        step_trainer_readings.serial_number is not null as has_device_reading
    from training_rows
    left join owner_readings
        on
            training_rows.serial_number = owner_readings.serial_number
            and training_rows.reading_time_ms = owner_readings.reading_time_ms
            and training_rows.x = owner_readings.x
            and training_rows.y = owner_readings.y
            and training_rows.z = owner_readings.z
    left join step_trainer_readings
        on
            training_rows.serial_number = step_trainer_readings.serial_number
            and training_rows.reading_time_ms
            = step_trainer_readings.sensor_reading_time_ms
            and training_rows.distance_from_object
            = step_trainer_readings.distance_from_object
)

select * from checked
where not has_owner_reading or not has_device_reading
