package geo

import (
	"strings"
	"unicode"
)

// How a priority-list row was matched to a village.
const (
	MatchCode      = "code"      // by Kemendagri code
	MatchExact     = "exact"     // names equal after normalisation
	MatchFuzzy     = "fuzzy"     // closest name in the kecamatan, similarity ≥ 0.8
	MatchAmbiguous = "ambiguous" // a fuzzy match competes with another candidate; needs review
	MatchNone      = "none"      // nothing close enough
)

// NameMatch is the result for one row.
type NameMatch struct {
	Row        int      `json:"row"`
	Village    string   `json:"village"`
	Kecamatan  string   `json:"kecamatan"`
	Code       string   `json:"code,omitempty"`
	Name       string   `json:"name,omitempty"`
	How        string   `json:"how"`
	Similarity float64  `json:"similarity,omitempty"`
	Candidates []string `json:"candidates,omitempty"` // for ambiguous rows: "code name (kecamatan)"
}

// priorityNormName upper-cases, drops "desa"/"kelurahan"/"kecamatan" prefixes and every
// non-alphanumeric character, so "Wibawa Mulya" = "Wibawamulya" and "Kec.
// Karangbahagia" = "Karang Bahagia".
func priorityNormName(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, p := range []string{"KELURAHAN ", "DESA ", "KECAMATAN ", "KEC. ", "KEL. ", "DS. "} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// nameSimilarity is the Ratcliff/Obershelp ratio 2·M/T on normalised names (M:
// characters in the longest common blocks found recursively; T: both lengths), the
// measure of Python's difflib that the shared data's README used. It tolerates a
// dropped syllable ("Sukakarya"/"Sukaraya" 0.82) better than edit distance.
func nameSimilarity(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra)+len(rb) == 0 {
		return 1
	}
	return 2 * float64(commonBlocks(ra, rb)) / float64(len(ra)+len(rb))
}

func commonBlocks(a, b []rune) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	bi, bj, bn := 0, 0, 0
	for i := range a {
		for j := range b {
			n := 0
			for i+n < len(a) && j+n < len(b) && a[i+n] == b[j+n] {
				n++
			}
			if n > bn {
				bi, bj, bn = i, j, n
			}
		}
	}
	if bn == 0 {
		return 0
	}
	return bn + commonBlocks(a[:bi], b[:bj]) + commonBlocks(a[bi+bn:], b[bj+bn:])
}

// fuzzyCutoff is the smallest similarity accepted as a fuzzy match.
const fuzzyCutoff = 0.8

// MatchVillageName finds the village named village in kecamatan kec among vs:
//  1. the kecamatan by normalised name (exact, else the most similar ≥ 0.8);
//  2. inside it, a village with the same normalised name ("exact");
//  3. else the most similar village name in the kecamatan ≥ 0.8 ("fuzzy") — but
//     when a village with exactly that name exists in another kecamatan, or two
//     candidates are about as close, the row is "ambiguous" (both are listed and
//     the in-kecamatan candidate is kept for review);
//  4. else a unique exact name anywhere in the regency ("exact", other kecamatan).
func MatchVillageName(vs []VillageSummary, row int, village, kec string) NameMatch {
	m := NameMatch{Row: row, Village: village, Kecamatan: kec, How: MatchNone}
	nv, nk := priorityNormName(village), priorityNormName(kec)
	kecs := map[string]string{} // normalised name → code
	for _, v := range vs {
		kecs[priorityNormName(v.KecamatanName)] = v.KecamatanCode
	}
	kecCode, ok := kecs[nk]
	if !ok && nk != "" {
		best := 0.0
		for n, c := range kecs {
			if s := nameSimilarity(nk, n); s > best && s >= fuzzyCutoff {
				best, kecCode = s, c
			}
		}
	}
	label := func(v VillageSummary) string { return v.Code + " " + v.Name + " (" + v.KecamatanName + ")" }
	var elsewhere []VillageSummary
	type cand struct {
		v VillageSummary
		s float64
	}
	var best, second cand
	for _, v := range vs {
		n := priorityNormName(v.Name)
		if v.KecamatanCode != kecCode {
			if n == nv {
				elsewhere = append(elsewhere, v)
			}
			continue
		}
		if n == nv {
			m.Code, m.Name, m.How, m.Similarity = v.Code, v.Name, MatchExact, 1
			return m
		}
		s := nameSimilarity(nv, n)
		if s > best.s {
			second, best = best, cand{v, s}
		} else if s > second.s {
			second = cand{v, s}
		}
	}
	if best.s >= fuzzyCutoff {
		m.Code, m.Name, m.How, m.Similarity = best.v.Code, best.v.Name, MatchFuzzy, best.s
		if len(elsewhere) > 0 || best.s-second.s < 0.05 {
			m.How = MatchAmbiguous
			m.Candidates = append(m.Candidates, label(best.v))
			if best.s-second.s < 0.05 && second.s >= fuzzyCutoff {
				m.Candidates = append(m.Candidates, label(second.v))
			}
			for _, v := range elsewhere {
				m.Candidates = append(m.Candidates, label(v))
			}
		}
		return m
	}
	if len(elsewhere) == 1 {
		v := elsewhere[0]
		m.Code, m.Name, m.How, m.Similarity = v.Code, v.Name, MatchAmbiguous, 1
		m.Candidates = []string{label(v)}
		return m
	}
	for _, v := range elsewhere {
		m.Candidates = append(m.Candidates, label(v))
	}
	return m
}
