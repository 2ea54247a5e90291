-- Reserved for issue 3 (boundary import, validation, diff, crosswalk). Empty until that work lands.
SELECT 1; -- placeholder: replace with this migration's SQL
