{#- Which person an event (booking, complaint, rescue, campaign registration) belongs to.
    The event's own identifiers first (its openid, then a valid mobile), else the OneID that owned
    its VIN on the event's day. These are attributions, not identity links: OneID never merges on
    them (RULES.md "weak" records).

    Use inside a select with `events` aliased as `alias`; the caller adds attribution_joins(). -#}
{% macro attributed_oneid(alias) -%}
    coalesce({{ alias }}_by_openid.oneid, {{ alias }}_by_mobile.oneid, {{ alias }}_by_vin.owner_oneid)
{%- endmacro %}

{% macro attribution_joins(alias, event_time, openid=true) -%}
    {%- if openid %}
    left join {{ ref('stg_identity__oneid_map') }} as {{ alias }}_by_openid
        on
            {{ alias }}_by_openid.identifier_type = 'oa_openid'
            and {{ alias }}.openid = {{ alias }}_by_openid.identifier_key
    {%- endif %}
    left join {{ ref('stg_identity__oneid_map') }} as {{ alias }}_by_mobile
        on
            {{ alias }}_by_mobile.identifier_type = 'mobile'
            and {{ alias }}.mobile_status = 'valid'
            and {{ alias }}.mobile_hmac = {{ alias }}_by_mobile.identifier_key
    {{ ownership_join(
        ref('int_vehicle_sales_ranked'), alias ~ '_by_vin', alias ~ '.vin',
        'cast(' ~ alias ~ '.' ~ event_time ~ ' as date)'
    ) }}
{%- endmacro %}

{% macro attributed_oneid_no_openid(alias) -%}
    coalesce({{ alias }}_by_mobile.oneid, {{ alias }}_by_vin.owner_oneid)
{%- endmacro %}
