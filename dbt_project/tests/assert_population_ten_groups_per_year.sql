-- Table 1 prints the same ten ethnic groups for every year.
select
    year,
    count(*) as n_groups
from {{ ref('population_by_ethnicity') }}
group by year
having count(*) <> 10
