-- The owner rule: what the screening of a reading needs to know about the
-- customer of its e-mail. One row per e-mail on any landing customer record;
-- a reading whose e-mail has no row here is of an unknown customer. An erased
-- customer has none: their records keep no e-mail (customer_screened), and
-- accelerometer_screened decides their readings by the request's hash.
with

customer_records as (
    select * from {{ ref('customer_screened') }}
),

consented_customers as (
    select * from {{ ref('customer_trusted') }}
),

known_emails as (
    select distinct email
    from customer_records
    where email is not null
),

final as (
    select
        known_emails.email,
        -- a reading joined to no row here takes false
        true as is_known_customer,
        -- the consent and device of the customer's current record, when it
        -- is in customer_trusted
        consented_customers.research_consent_ms,
        consented_customers.serial_number as owner_serial_number
    from known_emails
    left join consented_customers
        on known_emails.email = consented_customers.email
)

select * from final
