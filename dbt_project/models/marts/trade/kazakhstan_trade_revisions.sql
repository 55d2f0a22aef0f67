-- Earlier vintages of the bureau's figures: every partner value of a year as printed in
-- an earlier release, next to the latest release's value and the revision.
with

revisions as (

    select * from {{ ref('int_trade__revisions') }}

),

final as (

    select
        year,
        partner_key,
        partner_name_en,
        partner_iso3,
        is_aggregate,
        earlier_release,
        latest_release,
        revision_status,
        earlier_partner_name_ru,
        latest_partner_name_ru,
        earlier_turnover_kusd,
        latest_turnover_kusd,
        turnover_revision_kusd,
        earlier_exports_kusd,
        latest_exports_kusd,
        exports_revision_kusd,
        earlier_imports_kusd,
        latest_imports_kusd,
        imports_revision_kusd,
        earlier_source_ref,
        latest_source_ref,
        coalesce(latest_source_ref, earlier_source_ref) as source_ref
    from revisions
    order by year, earlier_release, partner_key

)

select * from final
