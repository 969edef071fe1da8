{#- Lapse status (RULES.md, customer KPIs) of a customer or vehicle from its reference date:
    the last repair order, or the purchase date when there has been none yet (a new car is not
    lapsed before it is due anywhere). The cut, with M = the run's as_of_date:
      active   reference date after M - 6 months            (came in the last 6 months)
      at_risk  reference date in (M - 12 months, M - 6 months]
      lapsed   reference date on or before M - 12 months    (no visit for more than 12 months)
      no_history  no repair order and no purchase known (e.g. a WeChat follower without a car)
    "Active (RO in 12 months)" of the KPIs is active + at_risk; is_active_12m carries it. -#}
{% macro lapse_status(reference_date) -%}
    case
        when {{ reference_date }} is null then 'no_history'
        when cast({{ reference_date }} as date) > {{ as_of_date() }} - interval {{ var('at_risk_months') }} month
            then 'active'
        when cast({{ reference_date }} as date) > {{ as_of_date() }} - interval {{ var('lapsed_months') }} month
            then 'at_risk'
        else 'lapsed'
    end
{%- endmacro %}


{#- Age band at the cut-off from a birth date (ID-number derived): the birth date itself never
    reaches a mart. -#}
{% macro age_band(birth_date) -%}
    case
        when {{ birth_date }} is null then null
        when {{ years_elapsed(birth_date, as_of_date()) }} < 25 then 'under_25'
        when {{ years_elapsed(birth_date, as_of_date()) }} < 35 then '25_34'
        when {{ years_elapsed(birth_date, as_of_date()) }} < 45 then '35_44'
        when {{ years_elapsed(birth_date, as_of_date()) }} < 55 then '45_54'
        when {{ years_elapsed(birth_date, as_of_date()) }} < 65 then '55_64'
        else '65_plus'
    end
{%- endmacro %}


{#- Rate with the RULES.md convention: a zero denominator gives null, never 0 or an error. -#}
{% macro safe_rate(numerator, denominator) -%}
    case when ({{ denominator }}) > 0 then cast({{ numerator }} as double) / ({{ denominator }}) end
{%- endmacro %}


{#- 客户分级 from the RFM score (0-9): A high value (8-9), B core (6-7), C occasional (3-5),
    D dormant (0-2; no visit in 24 months scores at most 0). -#}
{% macro value_segment(rfm_score) -%}
    case
        when {{ rfm_score }} >= 8 then 'A'
        when {{ rfm_score }} >= 6 then 'B'
        when {{ rfm_score }} >= 3 then 'C'
        else 'D'
    end
{%- endmacro %}


{#- RFM score of a percent_rank among the customers who came: top third 3, middle 2, bottom 1;
    no visit (null rank) 0. -#}
{% macro tertile_score(rank) -%}
    case
        when {{ rank }} is null then 0
        {# the thresholds as doubles, like percent_rank: on Spark `2.0 / 3` is a decimal(7,6),
           0.666667, so a rank of exactly 2/3 (0.6666666666666666) scored 2 there and 3 on DuckDB,
           whose `2.0 / 3` is a double #}
        when {{ rank }} >= cast(2 as double) / 3 then 3
        when {{ rank }} >= cast(1 as double) / 3 then 2
        else 1
    end
{%- endmacro %}
