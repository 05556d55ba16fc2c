-- Landing step-trainer readings kept out of step_trainer_trusted, as
-- delivered, with the reason.
-- The rows of customers who asked to be forgotten keep only their reason and
-- file: the screening model holds nothing else of them.
with

screened_readings as (
    select * from {{ ref('step_trainer_screened') }}
),

rejected as (
    select
        exclusion_reason,
        raw_serial_number as serial_number_as_delivered,
        raw_sensor_reading_time
            as sensor_reading_time_as_delivered,
        raw_distance_from_object
            as distance_from_object_as_delivered,
        -- the whole line, where its values cannot show what was delivered
        -- (malformed, or an object or array for a value)
        line_as_delivered,
        landing_file
    from screened_readings
    where exclusion_reason is not null
)

select * from rejected
