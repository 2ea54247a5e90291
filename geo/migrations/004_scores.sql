-- Reserved for issue 5 (need scores, weights, hot spots, rankings). Empty until that work lands.
SELECT 1; -- placeholder: replace with this migration's SQL
