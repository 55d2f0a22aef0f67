-- The bureau's partner tables, one row per printed sheet row, with the reported year
-- parsed from the printed period ("за январь-декабрь 2019 года", "за 2021 год", "2022 год").
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
        cast(row_no as integer) as row_no,
        name as name_ru,
        turnover_kusd,
        turnover_share_pct,
        exports_kusd,
        exports_share_pct,
        imports_kusd,
        imports_share_pct,
        printf('Bureau release %d, sheet %s, row %d ("%s")', release, sheet, row_no, name) as source_ref,
        _source_file as source_file,
        _source_line as source_line
    from source

)

select * from renamed
