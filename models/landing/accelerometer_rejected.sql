-- Landing accelerometer readings kept out of accelerometer_trusted, as
-- delivered, with the reason.
-- The rows of customers who asked to be forgotten keep only their reason and
-- file: the screening model holds nothing else of them.
with

screened_readings as (
    select * from {{ ref('accelerometer_screened') }}
),

rejected as (
    select
        exclusion_reason,
        raw_user as user_as_delivered,
        raw_timestamp as timestamp_as_delivered,
        raw_x as x_as_delivered,
        raw_y as y_as_delivered,
        raw_z as z_as_delivered,
        -- the whole line, where its values cannot show what was delivered
        -- (malformed, or an object or array for a value)
        line_as_delivered,
        landing_file
    from screened_readings
    where exclusion_reason is not null
)

select * from rejected
