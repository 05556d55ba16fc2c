-- Landing accelerometer readings kept out of accelerometer_trusted, as
-- delivered, with the reason.
-- The rows of customers who asked to be forgotten keep only their reason.
with

screened_readings as (
    select * from {{ ref('accelerometer_screened') }}
),

rejected as (
    select
        exclusion_reason,
        {{ unless_erased('raw_user') }} as user_as_delivered,
        {{ unless_erased('raw_timestamp') }} as timestamp_as_delivered,
        {{ unless_erased('raw_x') }} as x_as_delivered,
        {{ unless_erased('raw_y') }} as y_as_delivered,
        {{ unless_erased('raw_z') }} as z_as_delivered,
        -- the whole line, where its values cannot show what was delivered
        -- (malformed, or an object or array for a value)
        {{ unless_erased('line_as_delivered') }} as line_as_delivered,
        {{ unless_erased('landing_file') }} as landing_file
    from screened_readings
    where exclusion_reason is not null
)

select * from rejected
