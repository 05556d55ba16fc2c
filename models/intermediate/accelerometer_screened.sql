-- Every landing accelerometer reading, parsed and normalized, with its
-- verdict: exclusion_reason is null for the readings admitted to
-- accelerometer_trusted, else the first rule it fails. A reading of a
-- customer who asked to be forgotten keeps only the request's hash, the
-- reason and the file.
--
-- Incremental: a run reads only the landing files that are new since the
-- last one, and rescreens every reading date that holds one of their rows or
-- a reading whose customer's record changed (consent given or withdrawn,
-- erasure, a new device) since it was screened, or whose e-mail a new
-- erasure request names. Other dates keep their rows.
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
    newly_erased=(
        'erasure_request_sha256 is null and not is_known_customer and '
        ~ erasure_request_of('user_email', 'line_as_delivered')
        ~ ' in (select email_sha256 from ' ~ ref('erasure_requests') ~ ')'
    ),
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

erasure_requests as (
    -- a request may be listed twice; one row per hash
    select distinct email_sha256
    from {{ ref('erasure_requests') }}
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
        {{ landing_record_columns() }},
        {{ null_text() }} as erasure_request_sha256,
        cast(null as date) as screened_reading_date
    from source_readings

    union all

    select
        rescreened_rows.raw_user,
        rescreened_rows.raw_timestamp,
        rescreened_rows.raw_x,
        rescreened_rows.raw_y,
        rescreened_rows.raw_z,
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

erasure_decided as (
    -- first of all, and also for a line that cannot be parsed or whose
    -- e-mail no customer record has: whether its customer asked to be
    -- forgotten
    select
        landing_rows.raw_user,
        landing_rows.raw_timestamp,
        landing_rows.raw_x,
        landing_rows.raw_y,
        landing_rows.raw_z,
        {{ landing_record_columns('landing_rows') }},
        coalesce(landing_rows.erasure_request_sha256, erasure_requests.email_sha256)
            as erasure_request_sha256,
        -- an erased row stays in the date it was screened in, with no time
        case
            when
                landing_rows.erasure_request_sha256 is not null
                or erasure_requests.email_sha256 is not null
                then coalesce(
                    landing_rows.screened_reading_date,
                    {{ reading_date(parse_bigint('landing_rows.raw_timestamp')) }}
                )
        end as erased_reading_date
    from landing_rows
    left join erasure_requests
        on
            {{ erasure_request_of(
                'landing_rows.raw_user', 'landing_rows.line_as_delivered') }}
            = erasure_requests.email_sha256
),

forgotten as (
    select
        {{ unless_erased(
            ['raw_user', 'raw_timestamp', 'raw_x', 'raw_y', 'raw_z', 'line_as_delivered'],
            kept=['erased_reading_date']) }}
    from erasure_decided
),

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
        {{ parse_double('raw_z') }} as z,

        erasure_request_sha256,
        erased_reading_date

    from forgotten
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
        -- makes the numbering the same on every engine). Only a complete
        -- reading is numbered: the others (erased rows among them) fail an
        -- earlier rule, and their numbers would depend on which dates a
        -- run rescreens.
        case
            when
                user_email is not null
                and reading_time_ms is not null
                and x is not null
                and y is not null
                and z is not null
                then row_number() over (
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
                )
        end as copy_number
    from typed
),

with_owner as (
    select
        numbered.*,
        -- the owner state (owner_state above: a missing owner's values)
        owners.research_consent_ms,
        owners.owner_serial_number,
        coalesce(owners.is_known_customer, false) as is_known_customer
    from numbered
    left join owners
        on numbered.user_email = owners.email
),

screened as (
    select
        *,
        case
            -- before any other rule: every reading of an erased customer
            when erasure_request_sha256 is not null then 'erased'
            when is_malformed then 'malformed'
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
        coalesce(
            erased_reading_date, {{ reading_date('reading_time_ms') }}
        ) as reading_date
    from screened
)

select * from final
