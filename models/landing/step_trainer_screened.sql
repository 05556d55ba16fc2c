-- Every landing step-trainer reading, parsed, with its verdict:
-- exclusion_reason is null for the readings admitted to step_trainer_trusted,
-- else the first rule it fails.
--
-- Incremental as accelerometer_screened: new landing files only, plus every
-- reading date holding a reading of a device whose holder, curation or
-- erasure changed since it was screened.
{#- After a write that did not complete (incremental_writes.sql), every
    landing file again, and every date rewritten. #}
{%- set screens_new_files = is_incremental() and previous_write_completed() %}
{%- set new_files = new_landing_files('step_trainer') if screens_new_files else none %}

{#- The imports and the devices' holders (in an incremental run, with the
    rows screened before): the model's first CTEs, and those of the query
    that finds the dates to rescreen. That query runs first, so that the
    dates enter the model's query as literals (see rescreened_reading_dates). #}
{%- set owner_ctes %}
{{ landing_record_ctes('step_trainer', new_files) }},

source_readings as (
    select
        serialnumber as raw_serial_number,
        sensorreadingtime as raw_sensor_reading_time,
        distancefromobject as raw_distance_from_object,
        {{ landing_record_columns() }}
    from landing_records
),

customer_records as (
    select * from {{ ref('customer_screened') }}
),

consented_customers as (
    select * from {{ ref('customer_trusted') }}
),

accelerometer_verdicts as (
    -- the verdicts accelerometer_trusted copies its readings from: read
    -- here, this model need not wait for that copy and its tests
    select * from {{ ref('accelerometer_screened') }}
),

{%- if screens_new_files %}

screened_before as (
    select * from {{ this }}
),
{%- endif %}

device_owners as (
    -- who holds each device now: the current record of every e-mail. A
    -- device held by several customers cannot be attributed to one person.
    select
        serial_number,
        count(distinct email) as owner_count
    from customer_records
    where email_record_rank = 1 and email is not null and email != ''
    group by serial_number
),

erased_devices as (
    -- devices whose current holder asked to be forgotten
    select distinct serial_number
    from customer_records
    where email_record_rank = 1 and exclusion_reason = 'erased'
),

customers_with_readings as (
    -- the customers with trusted readings (accelerometer_trusted's rows)
    select distinct user_email
    from accelerometer_verdicts
    where exclusion_reason is null
),

curated_devices as (
    -- the devices of customers_curated (consented customers with trusted
    -- readings), one row per device so that no reading is counted twice
    select
        consented_customers.serial_number,
        max(consented_customers.research_consent_ms) as research_consent_ms
    from consented_customers
    inner join customers_with_readings
        on consented_customers.email = customers_with_readings.user_email
    group by consented_customers.serial_number
),

devices as (
    -- what screening needs to know about each device held by a customer
    -- (erased and curated devices are held by one)
    select
        device_owners.serial_number,
        device_owners.owner_count,
        curated_devices.research_consent_ms,
        erased_devices.serial_number is not null as is_erased
    from device_owners
    left join curated_devices
        on device_owners.serial_number = curated_devices.serial_number
    left join erased_devices
        on device_owners.serial_number = erased_devices.serial_number
)
{%- endset %}

{%- if screens_new_files %}
{%- set rescreen_ctes %}
screened_devices as (
    -- the device state each verdict was made with, per device and date
    -- (a few rows per device, not one per reading)
    select distinct
        serial_number,
        reading_date,
        owner_count,
        is_erased,
        research_consent_ms
    from screened_before
),

rescreened_dates as (
    -- the dates of the new files' readings
    select distinct
        {{ reading_date(parse_bigint('raw_sensor_reading_time')) }} as reading_date
    from source_readings

    union

    -- the dates of readings whose device changed since they were screened
    select distinct screened_devices.reading_date
    from screened_devices
    left join devices
        on screened_devices.serial_number = devices.serial_number
    where
        screened_devices.owner_count != coalesce(devices.owner_count, 0)
        or screened_devices.is_erased != coalesce(devices.is_erased, false)
        or screened_devices.research_consent_ms
        is distinct from devices.research_consent_ms
)
{%- endset %}
{%- set rescreened_dates = rescreened_reading_dates(
    owner_ctes, rescreen_ctes, 'sensor_reading_time_ms'
) %}
{%- endif %}

with

{{ owner_ctes }},

{%- if screens_new_files %}

rescreened_rows as (
    -- the rescreened dates' rows screened before
    select * from screened_before
    where {{ reading_date_in(rescreened_dates) }}
),

landing_rows as (
    select
        raw_serial_number,
        raw_sensor_reading_time,
        raw_distance_from_object,
        {{ landing_record_columns() }}
    from source_readings

    union all

    select
        rescreened_rows.raw_serial_number,
        rescreened_rows.raw_sensor_reading_time,
        rescreened_rows.raw_distance_from_object,
        {{ landing_record_columns('rescreened_rows') }}
    from rescreened_rows
),
{%- else %}

landing_rows as (
    select * from source_readings
),
{%- endif %}

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
        {{ parse_double('raw_distance_from_object') }} as distance_from_object

    from landing_rows
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
        -- makes the numbering the same on every engine)
        row_number() over (
            partition by
                serial_number, sensor_reading_time_ms, distance_from_object
            order by
                landing_file_modified_ms asc nulls first,
                landing_file asc nulls first,
                raw_serial_number asc nulls first,
                raw_sensor_reading_time asc nulls first,
                raw_distance_from_object asc nulls first,
                line_as_delivered asc nulls first
        ) as copy_number
    from typed
),

with_device as (
    select
        numbered.*,
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
            when is_malformed then 'malformed'
            -- before any other rule: every reading of an erased customer's
            -- device
            when is_erased then 'erased'
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
        {{ reading_date('sensor_reading_time_ms') }} as reading_date
    from screened
)

select * from final
