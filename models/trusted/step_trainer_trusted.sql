-- Incremental: a run rebuilds the reading dates that step_trainer_screened
-- rescreened since this table's newest verdict (pre-hook
-- drop_partitions_to_rebuild empties them first, so that a date whose
-- readings all lost their consent is emptied too).
{%- set rebuilt_dates = reading_dates_to_rebuild(['step_trainer_screened']) %}

with

screened_readings as (
    select * from {{ ref('step_trainer_screened') }}
    {%- if is_incremental_with_state() %}
    where {{ reading_date_in(rebuilt_dates) }}
    {%- endif %}
),

admitted as (
    select
        -- keys
        serial_number,
        sensor_reading_time_ms,

        -- measures
        distance_from_object,

        -- timestamps
        sensor_reading_at,
        screened_at,

        -- partition
        reading_date

    from screened_readings
    where exclusion_reason is null
)

select * from admitted
