{#- One row per day from 2015 to 2035: the semantic layer's time spine (MetricFlow joins metrics to
    it for cumulative and offset metrics and to fill empty periods). Static bounds, so the table never
    depends on the wall clock nor on the data; dbt's own date_spine keeps it portable. -#}
with

days as (
    {{ dbt.date_spine('day', dbt.date(2015, 1, 1), dbt.date(2036, 1, 1)) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
    where date_day < {{ dbt.date(2036, 1, 1) }}
)

select * from final
