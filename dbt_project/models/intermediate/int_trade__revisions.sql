-- Earlier vintages kept: for every year carried by more than one release, each partner's
-- figures in an earlier release next to the latest release's, and the revision.
-- Grain: (year, earlier_release, partner_key). Partners are matched on partner_key, so a
-- label whose spelling changed between releases still lines up.
with

mapped as (

    select * from {{ ref('int_trade__annual_partners') }}

),

latest as (

    select * from {{ ref('int_trade__latest_release') }}

),

earlier_rows as (

    select mapped.*
    from mapped
    inner join latest
        on mapped.year = latest.year
        and mapped.release < latest.latest_release

),

latest_rows as (

    select mapped.*
    from mapped
    inner join latest
        on mapped.year = latest.year
        and mapped.release = latest.latest_release

),

vintage_pairs as (

    select distinct
        earlier_rows.year,
        earlier_rows.release as earlier_release,
        latest.latest_release
    from earlier_rows
    inner join latest
        on earlier_rows.year = latest.year

),

latest_per_pair as (

    select
        vintage_pairs.earlier_release,
        latest_rows.*
    from vintage_pairs
    inner join latest_rows
        on vintage_pairs.year = latest_rows.year

),

joined as (

    select
        coalesce(earlier_rows.year, latest_per_pair.year) as year,
        coalesce(earlier_rows.release, latest_per_pair.earlier_release) as earlier_release,
        vintage_pairs.latest_release,
        coalesce(earlier_rows.partner_key, latest_per_pair.partner_key) as partner_key,
        coalesce(latest_per_pair.partner_name_en, earlier_rows.partner_name_en) as partner_name_en,
        coalesce(latest_per_pair.partner_iso3, earlier_rows.partner_iso3) as partner_iso3,
        coalesce(latest_per_pair.is_aggregate, earlier_rows.is_aggregate) as is_aggregate,
        earlier_rows.partner_name_ru as earlier_partner_name_ru,
        latest_per_pair.partner_name_ru as latest_partner_name_ru,
        earlier_rows.turnover_kusd as earlier_turnover_kusd,
        latest_per_pair.turnover_kusd as latest_turnover_kusd,
        earlier_rows.exports_kusd as earlier_exports_kusd,
        latest_per_pair.exports_kusd as latest_exports_kusd,
        earlier_rows.imports_kusd as earlier_imports_kusd,
        latest_per_pair.imports_kusd as latest_imports_kusd,
        earlier_rows.source_ref as earlier_source_ref,
        latest_per_pair.source_ref as latest_source_ref
    from earlier_rows
    full outer join latest_per_pair
        on earlier_rows.year = latest_per_pair.year
        and earlier_rows.release = latest_per_pair.earlier_release
        and earlier_rows.partner_key = latest_per_pair.partner_key
    inner join vintage_pairs
        on coalesce(earlier_rows.year, latest_per_pair.year) = vintage_pairs.year
        and coalesce(earlier_rows.release, latest_per_pair.earlier_release) = vintage_pairs.earlier_release

),

final as (

    select
        *,
        -- an empty cell means no trade (or below the printed precision): 0 in a difference
        cast(
            coalesce(latest_turnover_kusd, 0) - coalesce(earlier_turnover_kusd, 0) as decimal(20, 5)
        ) as turnover_revision_kusd,
        cast(
            coalesce(latest_exports_kusd, 0) - coalesce(earlier_exports_kusd, 0) as decimal(20, 5)
        ) as exports_revision_kusd,
        cast(
            coalesce(latest_imports_kusd, 0) - coalesce(earlier_imports_kusd, 0) as decimal(20, 5)
        ) as imports_revision_kusd,
        case
            when earlier_source_ref is null then 'added'
            when latest_source_ref is null then 'dropped'
            -- parenthesised: sqlfluff's DuckDB grammar cannot parse `a is distinct from b or ...`
            when
                (earlier_turnover_kusd is distinct from latest_turnover_kusd)
                or (earlier_exports_kusd is distinct from latest_exports_kusd)
                or (earlier_imports_kusd is distinct from latest_imports_kusd)
                then 'revised'
            else 'unchanged'
        end as revision_status
    from joined

)

select * from final
