-- Every candidate value of every trade source, long form: one row per year × partner × flow
-- × source, the partner conformed to reference.partners. The bureau's releases contribute
-- their latest release per year (earlier vintages: kazakhstan_trade_revisions); an empty
-- cell of a printed row is a candidate with a NULL value.
with

bureau as (

    select mapped.*
    from {{ ref('int_trade__annual_partners') }} as mapped
    inner join {{ ref('int_trade__latest_release') }} as latest
        on mapped.year = latest.year
        and mapped.release = latest.latest_release

),

bureau_long as (

    select
        year,
        partner_key,
        'exports' as flow,
        'bureau_release' as source,
        cast(exports_kusd as decimal(24, 6)) as value_kusd,
        partner_name_ru as source_label,
        source_ref
    from bureau
    union all
    select
        year,
        partner_key,
        'imports' as flow,
        'bureau_release' as source,
        cast(imports_kusd as decimal(24, 6)) as value_kusd,
        partner_name_ru as source_label,
        source_ref
    from bureau

),

processed as (

    select
        processed.year,
        coalesce(spellings.iso3, spellings.name_en) as partner_key,
        processed.flow,
        'bureau_processed' as source,
        processed.value_kusd,
        processed.name_ru as source_label,
        processed.source_ref
    from {{ ref('stg_bureau_processed__trade_by_partner') }} as processed
    left join {{ ref('partner_names') }} as spellings
        on processed.name_ru = spellings.name_ru

),

comtrade as (

    select
        comtrade.year,
        codes.partner_key,
        comtrade.flow,
        'un_comtrade' as source,
        comtrade.value_kusd,
        comtrade.wits_code as source_label,
        comtrade.source_ref
    from {{ ref('stg_un_comtrade__trade_by_partner') }} as comtrade
    left join {{ ref('partner_wits_codes') }} as codes
        on comtrade.wits_code = codes.wits_code

),

unioned as (

    select * from bureau_long
    union all
    select * from processed
    union all
    select * from comtrade

),

final as (

    select
        unioned.year,
        unioned.partner_key,
        partners.partner_iso3,
        partners.partner_name_en,
        partners.is_aggregate,
        partners.aggregate_kind,
        partners.is_eaeu,
        unioned.flow,
        unioned.source,
        case unioned.source when 'bureau_release' then 1 when 'bureau_processed' then 2 else 3 end
            as source_preference,
        unioned.value_kusd,
        unioned.source_label,
        unioned.source_ref
    from unioned
    left join {{ ref('partner_attributes') }} as partners
        on unioned.partner_key = partners.partner_key

)

select * from final
