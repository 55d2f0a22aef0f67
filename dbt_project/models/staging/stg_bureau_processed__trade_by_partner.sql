-- The bureau's annual partner figures as processed by a public repository (countries only),
-- exports and imports files in long form: one row per file line.
with

exports as (

    select
        *,
        'exports' as flow
    from {{ source('raw', 'bureau_processed_exports_by_partner') }}

),

imports as (

    select
        *,
        'imports' as flow
    from {{ source('raw', 'bureau_processed_imports_by_partner') }}

),

unioned as (

    select * from exports
    union all by name
    select * from imports

),

final as (

    select
        cast(year(date) as integer) as year,
        flow,
        item_code,
        item_name as name_ru,
        region,
        transformation,
        cast(value as decimal(24, 6)) as value_kusd,
        'Processed bureau figures (makenerzhan-gif/kazakhstan-economic-data), ' || _source_file
        || ', line ' || _source_line || ' (' || item_code || ' "' || item_name || '", '
        || strftime(date, '%Y-%m-%d') || ')' as source_ref,
        _source_file as source_file,
        _source_line as source_line
    from unioned

)

select * from final
