-- Reserved for issue 4 (household registers, rejects, erasure, officer access). Empty until that work lands.
SELECT 1; -- placeholder: replace with this migration's SQL
