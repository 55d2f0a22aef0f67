-- The economic facts stated in the paper's prose, one row per fact.
with

source as (

    select * from {{ source('raw', 'paper_economic_events') }}

),

renamed as (

    select
        event_id,
        event_date,
        date_precision,
        date_as_stated,
        event,
        amount_usd,
        amount_as_stated,
        section,
        quote,
        string_split(quote, ' ') as quote_words,
        _source_file as source_file,
        _source_line as source_line
    from source

),

final as (

    select
        event_id,
        event_date,
        date_precision,
        date_as_stated,
        event,
        amount_usd,
        amount_as_stated,
        section,
        quote,
        -- Paper, section "Economic relations": "In 2008, Kookmin Bank, South Korea's largest…"
        printf(
            'Paper, section "%s": "%s%s"',
            section,
            array_to_string(list_slice(quote_words, 1, 8), ' '),
            case when len(quote_words) > 8 then '…' else '' end
        ) as source_ref,
        source_file,
        source_line
    from renamed

)

select * from final
