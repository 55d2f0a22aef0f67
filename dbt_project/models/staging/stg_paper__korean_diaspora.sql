-- Table 2 as printed: one row per year (the table is already narrow).
with

source as (

    select * from {{ source('raw', 'paper_table2_korean_diaspora') }}

),

renamed as (

    select
        cast(year as integer) as year,
        total_population,
        total_population_printed,
        ethnic_korean_population as korean_population,
        ethnic_korean_population_printed as korean_population_printed,
        ethnic_korean_pct as korean_pct_stated,
        ethnic_korean_pct_printed as korean_pct_printed,
        printf('Table 2, row %d', year) as source_ref,
        _source_file as source_file,
        _source_line as source_line
    from source

)

select * from renamed
