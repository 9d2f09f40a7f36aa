{#
  Every row's `columns` appear as `to_columns` in `to` (a composite foreign key, e.g. a backfill's
  (connection_id, data_set_id) in datasets). Rows with a NULL in the key are not checked.
#}
{% test relationships_combination(model, columns, to, to_columns) %}
select {% for column in columns %}child.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ model }} as child
where {% for column in columns %}child.{{ column }} is not null and {% endfor %}not exists (
    select 1
    from {{ to }} as parent
    where {% for column in columns %}parent.{{ to_columns[loop.index0] }} = child.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
)
{% endtest %}
