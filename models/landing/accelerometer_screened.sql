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
{%- set screens_new_files = is_incremental() and previous_write_completed() %}
{%- set new_files = new_landing_files('accelerometer') if screens_new_files else none %}

{#- The imports and the owners (in an incremental run, with the rows screened
    before): the model's first CTEs, and those of the query that finds the
    dates to rescreen. That query runs first, so that the dates enter the
    model's query as literals (see rescreened_reading_dates). #}
{%- set owner_ctes %}
{{ landing_record_ctes('accelerometer', new_files) }},

source_readings as (
    select
        {{ adapter.quote('user') }} as raw_user,
        {{ adapter.quote('timestamp') }} as raw_timestamp,
        x as raw_x,
        y as raw_y,
        z as raw_z,
        {{ landing_record_columns() }}
    from landing_records
),

customer_records as (
    select * from {{ ref('customer_screened') }}
),

consented_customers as (
    select * from {{ ref('customer_trusted') }}
),

{%- if screens_new_files %}

screened_before as (
    select * from {{ this }}
),
{%- endif %}

known_emails as (
    select distinct email from customer_records
),

erased_emails as (
    select distinct email
    from customer_records
    where exclusion_reason = 'erased'
),

owners as (
    -- what screening needs to know about each e-mail of a customer record
    select
        known_emails.email,
        consented_customers.research_consent_ms,
        consented_customers.serial_number as owner_serial_number,
        erased_emails.email is not null as is_erased
    from known_emails
    left join consented_customers
        on known_emails.email = consented_customers.email
    left join erased_emails
        on known_emails.email = erased_emails.email
)
{%- endset %}

{%- if screens_new_files %}
{%- set rescreen_ctes %}
screened_owners as (
    -- the owner state each verdict was made with, per customer and date
    -- (a few rows per customer, not one per reading)
    select distinct
        user_email,
        reading_date,
        is_known_customer,
        is_erased,
        research_consent_ms,
        owner_serial_number
    from screened_before
),

rescreened_dates as (
    -- the dates of the new files' readings
    select distinct {{ reading_date(parse_bigint('raw_timestamp')) }} as reading_date
    from source_readings

    union

    -- the dates of readings whose customer changed since they were screened
    select distinct screened_owners.reading_date
    from screened_owners
    left join owners
        on screened_owners.user_email = owners.email
    where
        screened_owners.is_known_customer != (owners.email is not null)
        or screened_owners.is_erased != coalesce(owners.is_erased, false)
        or screened_owners.research_consent_ms
        is distinct from owners.research_consent_ms
        or screened_owners.owner_serial_number
        is distinct from owners.owner_serial_number
)
{%- endset %}
{%- set rescreened_dates = rescreened_reading_dates(
    owner_ctes, rescreen_ctes, 'reading_time_ms'
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
        owners.research_consent_ms,
        owners.owner_serial_number,
        owners.email is not null as is_known_customer,
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
