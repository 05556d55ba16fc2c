{% macro landing_location(folder) %}
    {#- Where a landing data set's files live: landing_root/<folder>. Spark
        wants absolute locations, so a relative landing_root is resolved
        against the dbt project directory, and '.' and '..' are folded away.
        URIs (s3://..., file:/...) are used as given. -#}
    {%- set root = var('landing_root') | string -%}
    {%- if modules.re.match('^[A-Za-z][A-Za-z0-9+.-]*:', root) -%}
        {{ return(root.rstrip('/') ~ '/' ~ folder) }}
    {%- endif -%}
    {%- if not root.startswith('/') -%}
        {%- set root = invocation_args_dict.get('project_dir', '.') ~ '/' ~ root -%}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for part in (root ~ '/' ~ folder).split('/') -%}
        {%- if part == '..' -%}
            {%- if parts -%}{%- do parts.pop() -%}{%- endif -%}
        {%- elif part not in ('', '.') -%}
            {%- do parts.append(part) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('/' ~ parts | join('/')) }}
{% endmacro %}
