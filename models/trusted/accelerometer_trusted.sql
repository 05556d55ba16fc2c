with

screened_readings as (
    select * from {{ ref('accelerometer_screened') }}
),

admitted as (
    select
        -- keys
        user_email,
        reading_time_ms,

        -- measures
        x,
        y,
        z,

        -- timestamps
        reading_at

    from screened_readings
    where exclusion_reason is null
)

select * from admitted
