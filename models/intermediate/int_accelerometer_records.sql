-- The landing accelerometer lines as records, by the landing rulebook
-- (macros/landing/landing_records.sql): one row per record, each key's value
-- as delivered (text), parsed but not yet judged. A view: its readers'
-- filters on landing_file reach the engines' file listing, so an
-- incremental run opens only the files it names.
with

{{ landing_record_ctes('accelerometer') }},

final as (
    select
        {{ adapter.quote('user') }} as raw_user,
        {{ adapter.quote('timestamp') }} as raw_timestamp,
        x as raw_x,
        y as raw_y,
        z as raw_z,
        {{ landing_record_columns() }}
    from landing_records
)

select * from final
