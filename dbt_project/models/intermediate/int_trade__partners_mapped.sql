-- Every row of every release, with the partner label resolved through the seed
-- `partner_names` (English name, ISO 3166 alpha-3, aggregate flag).
with

trade as (

    select * from {{ ref('stg_bureau__foreign_trade_by_partner') }}

),

partner_names as (

    select * from {{ ref('partner_names') }}

),

final as (

    select
        trade.release,
        trade.release_published,
        trade.sheet,
        trade.period,
        trade.year,
        trade.period_months,
        trade.hs_chapter,
        trade.row_no,
        trade.name_ru as partner_name_ru,
        partner_names.name_en as partner_name_en,
        partner_names.iso3 as partner_iso3,
        partner_names.is_aggregate,
        partner_names.aggregate_kind,
        -- stable across spelling variants: the ISO code, else the English label
        coalesce(partner_names.iso3, partner_names.name_en) as partner_key,
        trade.turnover_kusd,
        trade.turnover_share_pct,
        trade.exports_kusd,
        trade.exports_share_pct,
        trade.imports_kusd,
        trade.imports_share_pct,
        trade.source_ref,
        trade.source_file,
        trade.source_line
    from trade
    left join partner_names
        on trade.name_ru = partner_names.name_ru

)

select * from final
