with

screened_readings as (
    select * from {{ ref('step_trainer_screened') }}
),

admitted as (
    select
        -- keys
        serial_number,
        sensor_reading_time_ms,

        -- measures
        distance_from_object,

        -- timestamps
        sensor_reading_at

    from screened_readings
    where exclusion_reason is null
)

select * from admitted
