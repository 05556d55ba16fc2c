{% macro screening_rules() -%}
    {#- The settings a screening verdict depends on, as one string stored
        with every verdict: verdicts made under other settings cannot be
        mixed with new ones. -#}
    {%- set settings = [
        'enforce_consent_date=' ~ (consent_date_enforced() | lower),
        'product_launch_ms=' ~ var('product_launch_ms'),
        'max_abs_acceleration=' ~ var('max_abs_acceleration'),
        'max_distance_from_object=' ~ var('max_distance_from_object'),
        'erasure_hash_salt=' ~ var('erasure_hash_salt'),
    ] -%}
    {{ return(settings | join(';')) }}
{%- endmacro %}
