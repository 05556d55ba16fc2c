{% macro sha256_hex(text) %}
    {#- SHA-256 of the UTF-8 bytes of a text, as 64 lower-case hex digits. -#}
    {{ return(adapter.dispatch('sha256_hex', 'stedi')(text)) }}
{% endmacro %}

{% macro spark__sha256_hex(text) -%}
    sha2(encode({{ text }}, 'UTF-8'), 256)
{%- endmacro %}

{% macro athena__sha256_hex(text) -%}
    lower(to_hex(sha256(to_utf8({{ text }}))))
{%- endmacro %}


{% macro erasure_hash(email) -%}
    {#- How an erasure request names a customer without the plaintext e-mail:
        SHA-256 of '<erasure_hash_salt>:<normalized e-mail>' (see README,
        "Erasure requests"; scripts/erasure_request.py computes the same). -#}
    {{ sha256_hex(
        "concat('" ~ var('erasure_hash_salt') ~ ":', "
        ~ normalize_email(email) ~ ")") }}
{%- endmacro %}


{% macro pseudonymous_key(value, domain) %}
    {#- HMAC-SHA256 of '<domain>:<value>' under the secret pseudonym key, as
        64 lower-case hex digits. The key never appears in the SQL text:
        pseudonym_key_secret() names where the engine finds it. The domain
        keeps keys of different kinds of value (customer, device) apart. -#}
    {{ return(adapter.dispatch('pseudonymous_key', 'stedi')(value, domain)) }}
{% endmacro %}

{% macro spark__pseudonymous_key(value, domain) -%}
    {#- Spark 3.5 has no HMAC function, so this is RFC 2104 spelled out:
        sha256((K xor opad) || sha256((K xor ipad) || message)), with the key
        K (at most 64 bytes, checked before the build) zero-padded to the
        64-byte block and XORed 4 bytes at a time. -#}
    {%- set key_block_hex -%}
        rpad(hex(encode({{ pseudonym_key_secret() }}, 'UTF-8')), 128, '0')
    {%- endset -%}
    {%- set inner_pad = stedi.spark__xor_key_block(key_block_hex, 909522486) -%}
    {%- set outer_pad = stedi.spark__xor_key_block(key_block_hex, 1549556828) -%}
    sha2(concat({{ outer_pad }}, unhex(sha2(concat({{ inner_pad }}, encode(concat('{{ domain }}:', {{ value }}), 'UTF-8')), 256))), 256)
{%- endmacro %}


{% macro spark__xor_key_block(key_block_hex, pad_word) -%}
    {#- The 64-byte key block (128 hex digits) XOR a repeated 4-byte pad
        word (0x36363636 = 909522486, 0x5c5c5c5c = 1549556828), as binary. -#}
    unhex(concat_ws('', transform(sequence(0, 15), i -> lpad(conv(cast(conv(substr({{ key_block_hex }}, i * 8 + 1, 8), 16, 10) as bigint) ^ {{ pad_word }}, 10, 16), 8, '0'))))
{%- endmacro %}


{% macro athena__pseudonymous_key(value, domain) -%}
    lower(to_hex(hmac_sha256(to_utf8(concat('{{ domain }}:', {{ value }})), to_utf8({{ pseudonym_key_secret() }}))))
{%- endmacro %}


{% macro pseudonym_key_secret() %}
    {#- An SQL expression whose value is the secret pseudonym key, without the
        key in the SQL text (compiled SQL, dbt logs and query histories all
        keep SQL text). -#}
    {{ return(adapter.dispatch('pseudonym_key_secret', 'stedi')()) }}
{% endmacro %}

{% macro spark__pseudonym_key_secret() -%}
    {#- Spark substitutes ${...} from the session's configuration when it
        parses the statement; the profile sets spark.stedi.pseudonym_key. -#}
    '${spark.stedi.pseudonym_key}'
{%- endmacro %}

{% macro athena__pseudonym_key_secret() -%}
    {#- Athena has no session variables, and a literal would be kept in the
        query history and CloudTrail: the key sits in a one-row table that
        scripts/bootstrap_aws.py writes and only the dbt runner may read. -#}
    (select pseudonym_key from {{ pseudonym_key_relation() }})
{%- endmacro %}


{% macro pseudonym_key_relation() -%}
    {{ target.database }}.{{ target.schema }}_restricted.pseudonym_key
{%- endmacro %}


{% macro assert_pseudonym_key() %}
    {#- on-run-start: stops the run before any model when the engine has no
        usable pseudonym key. -#}
    {%- if execute -%}
        {%- do adapter.dispatch('assert_pseudonym_key', 'stedi')() -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro spark__assert_pseudonym_key() %}
    {#- An unset key substitutes to '', and Spark replaces a value that
        contains 'secret', 'password', 'token' or 'access.key' with
        '*********(redacted)': both fail the length check. -#}
    {%- set result = run_query(
        "select length(encode(" ~ pseudonym_key_secret() ~ ", 'UTF-8')) as key_bytes") -%}
    {%- set key_bytes = result.columns[0].values()[0] | int -%}
    {%- if key_bytes < 32 or key_bytes > 64 -%}
        {{ exceptions.raise_compiler_error(
            "The Spark session has no usable pseudonym key (spark.stedi.pseudonym_key "
            ~ "is " ~ key_bytes ~ " bytes long; it must be 32 to 64 bytes and must not "
            ~ "contain 'secret', 'password', 'token' or 'access.key', which Spark "
            ~ "redacts). Set DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY; see README, "
            ~ "'Pseudonymous keys'.") }}
    {%- endif -%}
{% endmacro %}

{% macro athena__assert_pseudonym_key() %}
    {%- set database, schema, identifier = pseudonym_key_relation().split('.') -%}
    {%- set relation = adapter.get_relation(
        database=database, schema=schema, identifier=identifier) -%}
    {%- if relation is none -%}
        {{ exceptions.raise_compiler_error(
            "No pseudonym key table " ~ schema ~ "." ~ identifier ~ ". Create it with "
            ~ "DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY set: python -m scripts.bootstrap_aws "
            ~ "--bucket BUCKET --pseudonym-key-from-env; see README, 'Pseudonymous keys'.") }}
    {%- endif -%}
{% endmacro %}
