-- The landing customer lines as records, by the landing rulebook
-- (macros/landing/landing_records.sql): one row per record, each key's value
-- as delivered (text), parsed but not yet judged. A view: its readers'
-- filters on landing_file reach the engines' file listing, so an
-- incremental run opens only the files it names.
with

{{ landing_record_ctes('customer') }},

final as (
    select
        customername as raw_customer_name,
        email as raw_email,
        phone as raw_phone,
        birthday as raw_birth_day,
        serialnumber as raw_serial_number,
        registrationdate as raw_registration_date,
        lastupdatedate as raw_last_update_date,
        sharewithresearchasofdate as raw_research_consent,
        sharewithpublicasofdate as raw_public_consent,
        sharewithfriendsasofdate as raw_friends_consent,
        {{ landing_record_columns() }}
    from landing_records
)

select * from final
