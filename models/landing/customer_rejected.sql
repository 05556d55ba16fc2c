-- Landing customer records kept out of customer_trusted, as delivered, with
-- the reason. The rows of customers who asked to be forgotten keep only their
-- reason.
with

screened_customers as (
    select * from {{ ref('customer_screened') }}
),

rejected as (
    select
        exclusion_reason,
        {{ unless_erased('raw_customer_name') }} as customer_name,
        {{ unless_erased('raw_email') }} as email,
        {{ unless_erased('phone') }} as phone,
        {{ unless_erased('birth_day') }} as birth_day,
        {{ unless_erased('serial_number') }} as serial_number,
        {{ unless_erased('raw_registration_date') }} as registration_date,
        {{ unless_erased('raw_last_update_date') }} as last_update_date,
        {{ unless_erased('raw_research_consent') }} as share_with_research_as_of_date,
        {{ unless_erased('raw_public_consent') }} as share_with_public_as_of_date,
        {{ unless_erased('raw_friends_consent') }} as share_with_friends_as_of_date,
        -- the whole line, where its values cannot show what was delivered
        -- (malformed, or an object or array for a value)
        {{ unless_erased('line_as_delivered') }} as line_as_delivered,
        {{ unless_erased('landing_file') }} as landing_file
    from screened_customers
    where exclusion_reason is not null
)

select * from rejected
