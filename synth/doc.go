// Package synth generates Sinergi's demo data: a fictional regency
// "Kabupaten Sinergi Demo" with code 99.01 (a code Kemendagri does not use,
// so demo rows can never be mistaken for real 32.16.KK.NNNN villages of
// Kabupaten Bekasi), its 20 kecamatan, about 180 villages, 4–5 industrial
// estates, a household register (streamed, optionally CSV with realistic
// dirt), 13 companies with CSR budgets and their plans.
//
// Everything is deterministic for a seed: each part draws from its own PCG
// stream of math/rand/v2 derived from the seed, with no global state, no
// clock and no dependence on map iteration order. Results are bit-identical
// for the same seed on the same architecture.
//
// Geometry is WGS84 lon/lat. Kecamatan are Lloyd-relaxed Voronoi cells
// clipped to the regency outline, villages are Lloyd-relaxed Voronoi cells
// clipped to their kecamatan, so villages nest in and tile their kecamatan,
// and kecamatan tile the outline. Exterior rings are closed and
// counter-clockwise (RFC 7946).
//
// Real boundaries can replace the generated villages: VillagesFromGeoJSON
// reads village polygons (e.g. the shared bekasi_desa.geojson) and
// PopulationFromCSV a population table to weight households by.
//
// The fictional names come from the word lists of package data.
package synth
