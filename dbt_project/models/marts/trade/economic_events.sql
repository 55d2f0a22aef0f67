-- The economic facts stated in the paper's prose (dates, amounts), each with its sentence.
with

events as (

    select * from {{ ref('stg_paper__economic_events') }}

),

final as (

    select
        event_date,
        event,
        amount_usd,
        source_ref,
        event_id,
        date_precision,
        date_as_stated,
        amount_as_stated,
        section,
        quote
    from events
    order by event_date, event_id

)

select * from final
