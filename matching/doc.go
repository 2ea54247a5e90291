// Package matching scores villages by need and matches companies to them; pure Go
// over plain values. The store (package geo) aggregates households in SQL and hands
// plain counts to this package; nothing here touches a database.
package matching
