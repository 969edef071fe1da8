{#- Every row satisfies `expression` (dbt_utils.expression_is_true, written here: no packages). -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
