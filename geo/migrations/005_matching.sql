-- Reserved for issue 6 (companies, matcher proposals, plans, coverage). Empty until that work lands.
SELECT 1; -- placeholder: replace with this migration's SQL
