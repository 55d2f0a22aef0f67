-- Every trade cell that two sources both cover, compared: year × partner × flow × pair of
-- sources (a = the preferred one). Status `agrees` when the difference is within rounding
-- (one unit in the last printed decimal place of each value; an empty cell or a missing row
-- counts as 0 with the bureau's «0,0» unit 0.1; UN Comtrade's unit is at least one dollar,
-- 0.001); else `known_gap` when an entry of the register of known source gaps (seed
-- known_source_gaps) covers the cell, else `differs` (blocks publishing: quality gate).
-- Compared: countries and other partner rows, and the grand total where both print one.
with

candidates as (

    select * from {{ ref('int_trade__all_sources') }}

),

gaps as (

    select * from {{ ref('known_source_gaps') }}

),

source_years as (

    select distinct
        year,
        source,
        source_preference
    from candidates

),

pairs as (

    select
        a.year,
        a.source as source_a,
        b.source as source_b
    from source_years as a
    inner join source_years as b
        on a.year = b.year
        and a.source_preference < b.source_preference

),

side_a as (

    select
        pairs.*,
        candidates.partner_key,
        candidates.flow,
        candidates.value_kusd,
        candidates.source_ref
    from pairs
    inner join candidates
        on pairs.year = candidates.year
        and pairs.source_a = candidates.source

),

side_b as (

    select
        pairs.*,
        candidates.partner_key,
        candidates.flow,
        candidates.value_kusd,
        candidates.source_ref
    from pairs
    inner join candidates
        on pairs.year = candidates.year
        and pairs.source_b = candidates.source

),

joined as (

    select
        coalesce(side_a.year, side_b.year) as year,
        coalesce(side_a.partner_key, side_b.partner_key) as partner_key,
        coalesce(side_a.flow, side_b.flow) as flow,
        coalesce(side_a.source_a, side_b.source_a) as source_a,
        coalesce(side_a.source_b, side_b.source_b) as source_b,
        side_a.value_kusd as value_a_kusd,
        side_b.value_kusd as value_b_kusd,
        side_a.source_ref as source_ref_a,
        side_b.source_ref as source_ref_b
    from side_a
    full outer join side_b
        on side_a.year = side_b.year
        and side_a.source_a = side_b.source_a
        and side_a.source_b = side_b.source_b
        and side_a.partner_key = side_b.partner_key
        and side_a.flow = side_b.flow

),

comparable as (

    select
        joined.*,
        partners.partner_iso3,
        partners.partner_name_en,
        partners.is_aggregate,
        partners.is_eaeu
    from joined
    inner join {{ ref('partner_attributes') }} as partners
        on joined.partner_key = partners.partner_key
    where (
        not partners.is_aggregate
        or (partners.aggregate_kind = 'total' and joined.source_ref_a is not null and joined.source_ref_b is not null)
    )
    and (joined.value_a_kusd is not null or joined.value_b_kusd is not null)

),

measured as (

    select
        *,
        cast(coalesce(value_a_kusd, 0) - coalesce(value_b_kusd, 0) as decimal(24, 6)) as difference_kusd,
        {{ printed_unit('value_a_kusd', "case when source_a = 'un_comtrade' then 0.001 else 0.00001 end") }}
        + {{ printed_unit('value_b_kusd', "case when source_b = 'un_comtrade' then 0.001 else 0.00001 end") }}
            as tolerance_kusd
    from comparable

),

gap_matches as (

    select
        measured.year,
        measured.partner_key,
        measured.flow,
        measured.source_a,
        measured.source_b,
        string_agg(gaps.gap_id, ', ' order by gaps.gap_id) as gap_ids
    from measured
    inner join gaps
        on gaps.source in (measured.source_a, measured.source_b)
        and measured.year between gaps.year_from and gaps.year_to
        and list_contains(string_split(gaps.flows, ' '), measured.flow)
        and case gaps.partner_scope
            when 'all' then true
            when 'eaeu' then measured.is_eaeu
            when 'outside_eaeu' then not measured.is_eaeu
            when 'listed' then list_contains(string_split(gaps.partner_keys, ' '), measured.partner_key)
        end
    group by all

),

final as (

    select
        measured.year,
        measured.partner_iso3,
        measured.partner_key,
        measured.partner_name_en,
        measured.flow,
        measured.source_a,
        measured.value_a_kusd,
        measured.source_b,
        measured.value_b_kusd,
        measured.difference_kusd,
        cast(measured.difference_kusd / nullif(greatest(
            abs(coalesce(measured.value_a_kusd, 0)),
            abs(coalesce(measured.value_b_kusd, 0))
        ), 0) as double) as relative_difference,
        cast(measured.tolerance_kusd as decimal(24, 6)) as tolerance_kusd,
        case
            when abs(measured.difference_kusd) <= measured.tolerance_kusd then 'agrees'
            when gap_matches.gap_ids is not null then 'known_gap'
            else 'differs'
        end as status,
        gap_matches.gap_ids as known_gap_ids,
        measured.source_ref_a,
        measured.source_ref_b
    from measured
    left join gap_matches
        on measured.year = gap_matches.year
        and measured.partner_key = gap_matches.partner_key
        and measured.flow = gap_matches.flow
        and measured.source_a = gap_matches.source_a
        and measured.source_b = gap_matches.source_b
    order by measured.year, measured.source_a, measured.source_b, measured.partner_key, measured.flow

)

select * from final
