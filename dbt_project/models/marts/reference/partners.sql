-- The conformed partner dimension: one row per partner (country, territory, aggregate or
-- unallocated row) that any trade source names, with every spelling of the bureau and every
-- WITS code (legacy ones included) that maps onto it.
with

attributes as (

    select * from {{ ref('partner_attributes') }}

),

names as (

    select * from {{ ref('partner_names') }}

),

wits as (

    select * from {{ ref('partner_wits_codes') }}

),

names_by_partner as (

    select
        coalesce(iso3, name_en) as partner_key,
        list_sort(list(name_ru)) as names_ru
    from names
    group by all

),

codes_by_partner as (

    select
        partner_key,
        list_sort(list(wits_code)) as wits_codes,
        list_sort(list(wits_code) filter (where is_legacy_code)) as wits_legacy_codes
    from wits
    group by all

),

final as (

    select
        attributes.partner_key,
        attributes.partner_iso3,
        attributes.partner_name_en,
        coalesce(names_by_partner.names_ru, cast([] as varchar[])) as names_ru,
        coalesce(codes_by_partner.wits_codes, cast([] as varchar[])) as wits_codes,
        coalesce(codes_by_partner.wits_legacy_codes, cast([] as varchar[])) as wits_legacy_codes,
        attributes.is_aggregate,
        attributes.aggregate_kind,
        attributes.is_eaeu,
        attributes.is_cis,
        attributes.is_eu
    from attributes
    left join names_by_partner
        on attributes.partner_key = names_by_partner.partner_key
    left join codes_by_partner
        on attributes.partner_key = codes_by_partner.partner_key
    order by attributes.is_aggregate, attributes.partner_key

)

select * from final
