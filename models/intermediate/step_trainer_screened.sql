-- Every landing step-trainer reading, parsed, with its verdict:
-- exclusion_reason is null for the readings admitted to step_trainer_trusted,
-- else the first rule it fails.
--
-- Incremental as accelerometer_screened: new landing files only, plus every
-- reading date holding a reading of a device whose holder, curation or
-- erasure changed since it was screened. A reading of an erased customer's
-- device keeps only the request's hash, the reason and the file.
{#- After a write that did not complete (incremental_writes.sql), every
    landing file again, and every date rewritten. #}
{%- set screens_new_files = (
    is_incremental_with_state() and previous_write_completed()
) %}
{%- set new_files = new_landing_files('step_trainer') if screens_new_files else none %}

{#- The device state a verdict depends on: the columns of int_device_holders
    that each screened row stores, with their value for a reading of a device
    no customer holds. A run rescreens the dates of readings whose stored
    state differs from the device's state now. #}
{%- set device_state = {
    'owner_count': '0',
    'is_erased': 'false',
    'research_consent_ms': 'null',
} %}
{%- set rescreened_dates = rescreened_reading_dates(
    new_files,
    records=ref('int_step_trainer_records'),
    reading_time_column='raw_sensor_reading_time',
    epoch_ms_column='sensor_reading_time_ms',
    holders=ref('int_device_holders'),
    holder_key='serial_number',
    reading_key='serial_number',
    holder_state=device_state,
) if screens_new_files else none %}

with

source_readings as (
    select * from {{ ref('int_step_trainer_records') }}
    {%- if screens_new_files %}
    where {{ is_new_landing_file(new_files) }}
    {%- endif %}
),

devices as (
    select * from {{ ref('int_device_holders') }}
),

{%- if screens_new_files %}

rescreened_rows as (
    -- the rescreened dates' rows screened before
    select * from {{ this }}
    where {{ reading_date_in(rescreened_dates) }}
),

landing_rows as (
    select
        raw_serial_number,
        raw_sensor_reading_time,
        raw_distance_from_object,
        {{ landing_record_columns() }},
        {{ null_text() }} as erasure_request_sha256,
        cast(null as date) as screened_reading_date
    from source_readings

    union all

    select
        rescreened_rows.raw_serial_number,
        rescreened_rows.raw_sensor_reading_time,
        rescreened_rows.raw_distance_from_object,
        {{ landing_record_columns('rescreened_rows') }},
        -- an erased row keeps nothing else to be decided by
        rescreened_rows.erasure_request_sha256,
        rescreened_rows.reading_date as screened_reading_date
    from rescreened_rows
),
{%- else %}

landing_rows as (
    select
        *,
        {{ null_text() }} as erasure_request_sha256,
        cast(null as date) as screened_reading_date
    from source_readings
),
{%- endif %}

erased_devices as (
    select * from devices
    where is_erased
),

erasure_decided as (
    -- first of all: whether the reading's device is one of a customer who
    -- asked to be forgotten
    select
        landing_rows.raw_serial_number,
        landing_rows.raw_sensor_reading_time,
        landing_rows.raw_distance_from_object,
        {{ landing_record_columns('landing_rows') }},
        coalesce(
            landing_rows.erasure_request_sha256, erased_devices.erasure_request_sha256
        ) as erasure_request_sha256,
        -- an erased row stays in the date it was screened in, with no time
        case
            when
                landing_rows.erasure_request_sha256 is not null
                or erased_devices.erasure_request_sha256 is not null
                then coalesce(
                    landing_rows.screened_reading_date,
                    {{ reading_date(
                        parse_bigint('landing_rows.raw_sensor_reading_time')) }}
                )
        end as erased_reading_date
    from landing_rows
    left join erased_devices
        on
            {{ trim_whitespace('landing_rows.raw_serial_number') }}
            = erased_devices.serial_number
),

forgotten as (
    select
        {{ unless_erased(
            ['raw_serial_number', 'raw_sensor_reading_time', 'raw_distance_from_object',
             'line_as_delivered'],
            kept=['erased_reading_date']) }}
    from erasure_decided
),

parsed as (
    select
        -- as delivered
        raw_serial_number,
        raw_sensor_reading_time,
        raw_distance_from_object,
        {{ landing_record_columns() }},

        -- keys
        {{ trim_whitespace('raw_serial_number') }} as serial_number,
        {{ parse_bigint('raw_sensor_reading_time') }} as sensor_reading_time_ms,

        -- measures
        {{ parse_double('raw_distance_from_object') }} as distance_from_object,

        erasure_request_sha256,
        erased_reading_date

    from forgotten
),

typed as (
    select
        *,
        {{ epoch_ms_to_timestamp('sensor_reading_time_ms') }} as sensor_reading_at
    from parsed
),

numbered as (
    select
        *,
        -- copies of one reading, e.g. from a file delivered twice: the
        -- first delivered is the original (the rest of the order only
        -- makes the numbering the same on every engine). Only a complete
        -- reading is numbered: the others (erased rows among them) fail an
        -- earlier rule, and their numbers would depend on which dates a
        -- run rescreens.
        case
            when
                serial_number is not null
                and sensor_reading_time_ms is not null
                and distance_from_object is not null
                then row_number() over (
                    partition by
                        serial_number, sensor_reading_time_ms, distance_from_object
                    order by
                        landing_file_modified_ms asc nulls first,
                        landing_file asc nulls first,
                        raw_serial_number asc nulls first,
                        raw_sensor_reading_time asc nulls first,
                        raw_distance_from_object asc nulls first,
                        line_as_delivered asc nulls first
                )
        end as copy_number
    from typed
),

with_device as (
    select
        numbered.*,
        -- the device state (device_state above: an unheld device's values)
        devices.research_consent_ms,
        coalesce(devices.owner_count, 0) as owner_count,
        coalesce(devices.is_erased, false) as is_erased
    from numbered
    left join devices
        on numbered.serial_number = devices.serial_number
),

screened as (
    select
        *,
        case
            -- before any other rule: every reading of an erased customer's
            -- device
            when erasure_request_sha256 is not null then 'erased'
            when is_malformed then 'malformed'
            -- an object or array where a value is expected
            when has_non_scalar_value then 'invalid_value'
            when
                serial_number is null or serial_number = ''
                or raw_sensor_reading_time is null
                or raw_distance_from_object is null
                then 'missing_field'
            when sensor_reading_time_ms is null or distance_from_object is null
                then 'invalid_value'
            when not {{ plausible_reading_time('sensor_reading_time_ms') }}
                then 'implausible_time'
            when
                distance_from_object < 0
                or distance_from_object > {{ var('max_distance_from_object') }}
                then 'out_of_range'
            when owner_count = 0 then 'unknown_device'
            when owner_count > 1 then 'ambiguous_device'
            when research_consent_ms is null then 'device_not_curated'
            {% if consent_date_enforced() -%}
            when sensor_reading_time_ms < research_consent_ms
                then 'before_research_consent'
            {% endif -%}
            when copy_number > 1 then 'duplicate'
        end as exclusion_reason
    from with_device
),

final as (
    select
        *,
        '{{ screening_rules() }}' as screening_rules,
        {{ run_started_timestamp() }} as screened_at,
        -- the partition column, last as both engines want it
        coalesce(erased_reading_date, {{ reading_date('sensor_reading_time_ms') }})
            as reading_date
    from screened
)

select * from final
