{#- Staging maps the Chinese enumerations of the exports (SOURCES.md) to English codes.
    One dictionary per enumeration, so marts, tests and docs share the same codes.
    A value that is already the English code passes through (a source may send either);
    any other value becomes 'unknown', which the accepted_values tests (severity warn) report;
    null stays null. -#}

{% macro enum_to_code(column, codes) -%}
    case
        {%- for chinese, code in codes.items() %}
        when trim({{ column }}) = '{{ chinese }}' then '{{ code }}'
        {%- endfor %}
        when trim({{ column }}) in ({% for code in codes.values() | unique %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor %}) then trim({{ column }})
        when {{ column }} is null or trim({{ column }}) = '' then null
        else 'unknown'
    end
{%- endmacro %}

{% macro service_type_codes() -%}
    {{ return({
        "首保": "first_maintenance",
        "定期保养": "maintenance",
        "一般维修": "general_repair",
        "索赔": "warranty_claim",
        "服务活动": "campaign",
        "事故车": "accident",
        "召回": "recall",
    }) }}
{%- endmacro %}

{% macro booking_channel_codes() -%}
    {{ return({"微信": "wechat", "电话": "phone", "APP": "app", "到店": "walk_in"}) }}
{%- endmacro %}

{% macro booking_item_codes() -%}
    {{ return({"保养": "maintenance", "维修": "repair", "年检": "inspection", "其他": "other"}) }}
{%- endmacro %}

{% macro booking_status_codes() -%}
    {{ return({"待确认": "pending", "已确认": "confirmed", "已取消": "cancelled"}) }}
{%- endmacro %}

{% macro binding_status_codes() -%}
    {{ return({"有效": "bound", "解绑": "unbound"}) }}
{%- endmacro %}

{% macro usage_codes() -%}
    {{ return({"非营运": "non_operating", "营运": "operating"}) }}
{%- endmacro %}

{% macro campaign_scope_codes() -%}
    {{ return({"全国": "national", "店端": "dealer"}) }}
{%- endmacro %}

{% macro participant_channel_codes() -%}
    {{ return({
        "朋友圈": "moments",
        "群发": "mass_message",
        "会话": "chat",
        "电话": "phone",
        "到店": "walk_in",
    }) }}
{%- endmacro %}

{% macro reminder_type_codes() -%}
    {{ return({
        "首保": "first_maintenance",
        "保养": "maintenance",
        "质保": "warranty",
        "保险": "insurance",
        "年审": "inspection",
        "生日": "birthday",
        "活动": "campaign",
    }) }}
{%- endmacro %}

{% macro call_result_codes() -%}
    {{ return({
        "接通": "connected",
        "无人接听": "no_answer",
        "拒接": "rejected",
        "空号": "invalid_number",
        "占线": "busy",
    }) }}
{%- endmacro %}

{% macro complaint_channel_codes() -%}
    {{ return({
        "微信": "wechat",
        "热线": "hotline",
        "经销商": "dealer",
        "媒体": "media",
        "机构": "authority",
        "其他": "other",
    }) }}
{%- endmacro %}

{% macro complaint_category_codes() -%}
    {{ return({"品质": "quality", "销售": "sales", "服务": "service", "部品": "parts", "其他": "other"}) }}
{%- endmacro %}

{% macro complaint_level_codes() -%}
    {{ return({"一般": "general", "升级": "escalated", "重大": "major"}) }}
{%- endmacro %}

{% macro staff_role_codes() -%}
    {{ return({
        "销售顾问": "sales_consultant",
        "服务顾问": "service_advisor",
        "DCRC专员": "dcrc_agent",
        "DCRC经理": "dcrc_manager",
        "救援专员": "rescue_agent",
        "保险专员": "insurance_agent",
    }) }}
{%- endmacro %}
