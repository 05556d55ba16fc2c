-- Landing customer records kept out of customer_trusted, as delivered, with
-- the reason. The rows of customers who asked to be forgotten keep only their
-- reason and file: the screening model holds nothing else of them.
with

screened_customers as (
    select * from {{ ref('customer_screened') }}
),

rejected as (
    select
        exclusion_reason,
        raw_customer_name as customer_name,
        raw_email as email,
        phone,
        birth_day,
        serial_number,
        raw_registration_date as registration_date,
        raw_last_update_date as last_update_date,
        raw_research_consent as share_with_research_as_of_date,
        raw_public_consent as share_with_public_as_of_date,
        raw_friends_consent as share_with_friends_as_of_date,
        -- the whole line, where its values cannot show what was delivered
        -- (malformed, or an object or array for a value)
        line_as_delivered,
        landing_file
    from screened_customers
    where exclusion_reason is not null
)

select * from rejected
