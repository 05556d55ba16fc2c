-- Every landing accelerometer reading, parsed and normalized, with its
-- verdict: exclusion_reason is null for the readings admitted to
-- accelerometer_trusted, else the first rule it fails.
--
-- Incremental: a run reads only the landing files that are new since the
-- last one, and rescreens every reading date that holds one of their rows or
-- a reading whose customer's record changed (consent given or withdrawn,
-- erasure, a new device) since it was screened. Other dates keep their rows.
{#- After a write that did not complete (incremental_writes.sql), every
    landing file again, and every date rewritten. #}
{%- set screens_new_files = (
    is_incremental_with_state() and previous_write_completed()
) %}
{%- set new_files = new_landing_files('accelerometer') if screens_new_files else none %}

{#- The owner state a verdict depends on: the columns of int_customer_owners
    that each screened row stores, with their value for a reading whose
    e-mail has no customer record. A run rescreens the dates of readings whose
    stored state differs from the owner's state now. #}
{%- set owner_state = {
    'is_known_customer': 'false',
    'is_erased': 'false',
    'research_consent_ms': 'null',
    'owner_serial_number': 'null',
} %}
{%- set rescreened_dates = rescreened_reading_dates(
    new_files,
    records=ref('int_accelerometer_records'),
    reading_time_column='raw_timestamp',
    epoch_ms_column='reading_time_ms',
    holders=ref('int_customer_owners'),
    holder_key='email',
    reading_key='user_email',
    holder_state=owner_state,
) if screens_new_files else none %}

with

source_readings as (
    select * from {{ ref('int_accelerometer_records') }}
    {%- if screens_new_files %}
    where {{ is_new_landing_file(new_files) }}
    {%- endif %}
),

owners as (
    select * from {{ ref('int_customer_owners') }}
),

{%- if screens_new_files %}

rescreened_rows as (
    -- the rescreened dates' rows screened before
    select * from {{ this }}
    where {{ reading_date_in(rescreened_dates) }}
),

landing_rows as (
    select
        raw_user,
        raw_timestamp,
        raw_x,
        raw_y,
        raw_z,
        {{ landing_record_columns() }}
    from source_readings

    union all

    select
        rescreened_rows.raw_user,
        rescreened_rows.raw_timestamp,
        rescreened_rows.raw_x,
        rescreened_rows.raw_y,
        rescreened_rows.raw_z,
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
        raw_user,
        raw_timestamp,
        raw_x,
        raw_y,
        raw_z,
        {{ landing_record_columns() }},

        -- keys
        {{ normalize_email('raw_user') }} as user_email,
        {{ parse_bigint('raw_timestamp') }} as reading_time_ms,

        -- measures
        {{ parse_double('raw_x') }} as x,
        {{ parse_double('raw_y') }} as y,
        {{ parse_double('raw_z') }} as z

    from landing_rows
),

typed as (
    select
        *,
        {{ epoch_ms_to_timestamp('reading_time_ms') }} as reading_at
    from parsed
),

numbered as (
    select
        *,
        -- copies of one reading, e.g. from a file delivered twice: the
        -- first delivered is the original (the rest of the order only
        -- makes the numbering the same on every engine)
        row_number() over (
            partition by user_email, reading_time_ms, x, y, z
            order by
                landing_file_modified_ms asc nulls first,
                landing_file asc nulls first,
                raw_user asc nulls first,
                raw_timestamp asc nulls first,
                raw_x asc nulls first,
                raw_y asc nulls first,
                raw_z asc nulls first,
                line_as_delivered asc nulls first
        ) as copy_number
    from typed
),

with_owner as (
    select
        numbered.*,
        -- the owner state (owner_state above: a missing owner's values)
        owners.research_consent_ms,
        owners.owner_serial_number,
        coalesce(owners.is_known_customer, false) as is_known_customer,
        coalesce(owners.is_erased, false) as is_erased
    from numbered
    left join owners
        on numbered.user_email = owners.email
),

screened as (
    select
        *,
        case
            when is_malformed then 'malformed'
            -- before any other rule: every reading of an erased customer
            when is_erased then 'erased'
            -- an object or array where a value is expected
            when has_non_scalar_value then 'invalid_value'
            when
                user_email is null or user_email = ''
                or raw_timestamp is null
                or raw_x is null
                or raw_y is null
                or raw_z is null
                then 'missing_field'
            when
                reading_time_ms is null
                or x is null
                or y is null
                or z is null
                then 'invalid_value'
            when not {{ plausible_reading_time('reading_time_ms') }}
                then 'implausible_time'
            when
                abs(x) > {{ var('max_abs_acceleration') }}
                or abs(y) > {{ var('max_abs_acceleration') }}
                or abs(z) > {{ var('max_abs_acceleration') }}
                then 'out_of_range'
            when not is_known_customer then 'unknown_customer'
            when research_consent_ms is null then 'no_research_consent'
            {% if consent_date_enforced() -%}
            when reading_time_ms < research_consent_ms
                then 'before_research_consent'
            {% endif -%}
            when copy_number > 1 then 'duplicate'
        end as exclusion_reason
    from with_owner
),

final as (
    select
        *,
        '{{ screening_rules() }}' as screening_rules,
        {{ run_started_timestamp() }} as screened_at,
        -- the partition column, last as both engines want it
        {{ reading_date('reading_time_ms') }} as reading_date
    from screened
)

select * from final
