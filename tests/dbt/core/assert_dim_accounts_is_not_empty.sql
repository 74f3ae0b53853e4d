-- dim_accounts is never empty (was the GX suite dim_accounts' row count >= 1): every mart is read
-- through its account's currency and timezone, so a build without one publishes nothing usable.
select 'dim_accounts has no rows' as problem
where not exists (select 1 from {{ ref('dim_accounts') }})
