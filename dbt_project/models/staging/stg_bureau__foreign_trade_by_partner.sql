-- The bureau's partner tables, one row per printed sheet row, with the reported year
-- parsed from the printed period ("за январь-декабрь 2019 года", "за 2021 год", "2022 год").
-- A table may cover part of a year ("за январь-март 2021 года": period_months = 3) and one
-- commodity chapter (sheet "12_2021_hs27": hs_chapter = 27); every table the bureau's annual
-- releases print is whole-year (12) and all commodities (0).
with

source as (

    select * from {{ source('raw', 'bureau_foreign_trade_by_partner') }}

),

renamed as (

    select
        cast(release as integer) as release,
        release_published,
        sheet,
        period,
        cast(nullif(regexp_extract(period, '(\d{4})', 1), '') as integer) as year,
        {{ period_months('period') }} as period_months,
        coalesce(try_cast(nullif(regexp_extract(sheet, '_hs([0-9]{2})$', 1), '') as integer), 0) as hs_chapter,
        cast(row_no as integer) as row_no,
        name as name_ru,
        turnover_kusd,
        turnover_share_pct,
        exports_kusd,
        exports_share_pct,
        imports_kusd,
        imports_share_pct,
        -- `||` rather than printf: the same text, a third of the cost per row at scale
        'Bureau release ' || release || ', sheet ' || sheet || ', row ' || row_no
        || ' ("' || name || '")' as source_ref,
        _source_file as source_file,
        _source_line as source_line
    from source

)

select * from renamed
