{#
  No two rows share the values of `columns` (a composite natural key). Written here rather than
  taken from dbt_utils: the package must install without dbt Hub. Rows with a NULL in the key are
  the not_null tests' business.
#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as duplicates
from {{ model }}
where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
