-- The landing step-trainer lines as records, by the landing rulebook
-- (macros/landing/landing_records.sql): one row per record, each key's value
-- as delivered (text), parsed but not yet judged. A view: its readers'
-- filters on landing_file reach the engines' file listing, so an
-- incremental run opens only the files it names.
with

{{ landing_record_ctes('step_trainer') }},

final as (
    select
        serialnumber as raw_serial_number,
        sensorreadingtime as raw_sensor_reading_time,
        distancefromobject as raw_distance_from_object,
        {{ landing_record_columns() }}
    from landing_records
)

select * from final
