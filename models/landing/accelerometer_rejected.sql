-- Landing accelerometer readings kept out of accelerometer_trusted, as
-- delivered, with the reason.
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
        raw_z as z_as_delivered
    from screened_readings
    where exclusion_reason is not null
)

select * from rejected
