{#- Fan-out guard: the model has exactly as many rows as `compare_model` (optionally filtered). -#}
{% test row_count_equals_model(model, compare_model, compare_filter='true') %}
with counts as (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ compare_model }} where {{ compare_filter }}) as compare_rows
)
select * from counts where model_rows <> compare_rows
{% endtest %}
