-- While enforce_consent_date is true, no trusted reading predates its
-- owner's research consent. Returns the offending readings.
{{ config(enabled=consent_date_enforced()) }}

with

customers as (
    select * from {{ ref('customer_trusted') }}
),

accelerometer_readings as (
    select * from {{ ref('accelerometer_trusted') }}
),

step_trainer_readings as (
    select * from {{ ref('step_trainer_trusted') }}
),

early_accelerometer_readings as (
    select
        'accelerometer_trusted' as model_name,
        accelerometer_readings.reading_time_ms,
        customers.research_consent_ms
    from accelerometer_readings
    inner join customers
        on accelerometer_readings.user_email = customers.email
    where accelerometer_readings.reading_time_ms < customers.research_consent_ms
),

early_step_trainer_readings as (
    -- against every owner of the device: none may have consented later
    select
        'step_trainer_trusted' as model_name,
        step_trainer_readings.sensor_reading_time_ms as reading_time_ms,
        customers.research_consent_ms
    from step_trainer_readings
    inner join customers
        on step_trainer_readings.serial_number = customers.serial_number
    where
        step_trainer_readings.sensor_reading_time_ms
        < customers.research_consent_ms
),

offending as (
    select * from early_accelerometer_readings
    union all
    select * from early_step_trainer_readings
)

select * from offending
