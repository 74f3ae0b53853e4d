{#- Join condition: the responsibility period `periods` (int_lead_responsible_periods) covers the
    moment `ts`. Period 1 also covers anything before its start (events logged a moment before
    the lead's creation time), so exactly one period matches. -#}
{% macro period_covers(periods, ts) -%}
    ({{ periods }}.period_number = 1 or {{ periods }}.valid_from <= {{ ts }})
    and ({{ periods }}.valid_to is null or {{ ts }} < {{ periods }}.valid_to)
{%- endmacro %}
