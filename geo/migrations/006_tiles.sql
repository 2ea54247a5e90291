-- Reserved for issue 7 (tiles, layer versions, OGC). Empty until that work lands.
SELECT 1; -- placeholder: replace with this migration's SQL
